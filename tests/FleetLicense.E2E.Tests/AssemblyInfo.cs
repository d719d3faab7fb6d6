using FleetLicense.Testing;

[assembly: AssemblyFixture(typeof(PostgresFixture))]
[assembly: AssemblyFixture(typeof(FleetLicense.E2E.Tests.BrowserFixture))]
