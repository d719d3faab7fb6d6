using FleetLicense.Testing;

[assembly: AssemblyFixture(typeof(PostgresFixture))]
