# FleetLicense server: one image, built from source.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet restore FleetLicense.sln \
 && dotnet publish src/FleetLicense.Web/FleetLicense.Web.csproj -c Release --no-restore -o /app \
 && dotnet build migrations/FleetLicense.Migrations/FleetLicense.Migrations.csproj -c Release --no-restore \
 # The app loads its migrations assembly from its own folder (the migrations project references the app, not the reverse).
 && cp migrations/FleetLicense.Migrations/bin/Release/net10.0/FleetLicense.Migrations.dll /app/

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "FleetLicense.Web.dll"]
