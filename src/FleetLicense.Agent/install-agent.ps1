<#
.SYNOPSIS
    Installs or uninstalls the FleetLicense agent as a Windows service.

.DESCRIPTION
    Install (default): copies the published agent (the folder this script is in) to -InstallDir,
    enrols the machine with the FleetLicense server (the device token is stored DPAPI-protected in
    -DataDir, readable only by SYSTEM and Administrators), registers the service "FleetLicenseAgent"
    (automatic delayed start, runs as LocalSystem, restarts after a failure) and starts it.
    Running it again upgrades the files and re-enrols (which rotates the device token).

    Uninstall (-Uninstall): stops and deletes the service and removes -InstallDir. The data directory
    (device token, outbox of unsent reports) is kept unless -RemoveData is given.

    Requires an elevated PowerShell (5.1 or 7) and the .NET 10 runtime (the agent is published
    framework-dependent).

.PARAMETER Server
    The FleetLicense server URL, e.g. https://fleetlicense.corp.example. Plain http is refused (the
    enrolment secret and device token would travel unencrypted) except to this machine: localhost,
    127.0.0.0/8 and ::1.

.PARAMETER Secret
    The enrolment secret an administrator created on the server. It is passed to the agent through an
    environment variable, not on its command line.

.PARAMETER InstallDir
    Where the agent's files go. Default: C:\Program Files\FleetLicense\Agent

.PARAMETER DataDir
    The agent's state directory. Default: C:\ProgramData\FleetLicense

.PARAMETER Uninstall
    Stop and remove the service and the installed files.

.PARAMETER RemoveData
    With -Uninstall: also delete the data directory (device token and unsent reports).

.EXAMPLE
    .\install-agent.ps1 -Server https://fleetlicense.corp.example -Secret 'paste-the-enrolment-secret'

.EXAMPLE
    .\install-agent.ps1 -Uninstall -RemoveData
#>
[CmdletBinding(DefaultParameterSetName = 'Install')]
param(
    # Checked while the parameters are bound, before anything is stopped or copied. The same rule as the agent's
    # (Uri.IsLoopback, FleetLicense.Contracts/ServerUrls.cs), which enroll applies again to whatever reaches it.
    [Parameter(Mandatory = $true, ParameterSetName = 'Install')]
    [ValidateScript({
        $uri = $null
        if (-not [Uri]::TryCreate($_, [UriKind]::Absolute, [ref] $uri) -or $uri.Scheme -notin @('https', 'http')) {
            throw "'$_' is not an http(s) URL, e.g. https://fleetlicense.corp.example"
        }
        if ($uri.Scheme -eq 'http' -and -not $uri.IsLoopback) {
            throw "'$_' is plain http, so the enrolment secret and device token would travel unencrypted; plain http is allowed only to this machine (localhost, 127.0.0.0/8, ::1); use https"
        }
        $true
    })]
    [string] $Server,

    [Parameter(Mandatory = $true, ParameterSetName = 'Install')]
    [ValidateNotNullOrEmpty()]
    [string] $Secret,

    [string] $InstallDir = (Join-Path $env:ProgramFiles 'FleetLicense\Agent'),

    [string] $DataDir = (Join-Path $env:ProgramData 'FleetLicense'),

    [Parameter(Mandatory = $true, ParameterSetName = 'Uninstall')]
    [switch] $Uninstall,

    [Parameter(ParameterSetName = 'Uninstall')]
    [switch] $RemoveData
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ServiceName = 'FleetLicenseAgent'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script from an elevated PowerShell (Run as administrator).'
}

function Stop-AgentService {
    $service = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
    if ($service -and $service.Status -ne 'Stopped') {
        Stop-Service -Name $ServiceName -Force
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
    }
    return $service
}

# The command line that starts the agent: the apphost when the publish has one, else dotnet.exe + the dll.
function Get-AgentCommandLine([string] $Directory) {
    $exe = Join-Path $Directory 'fleetlicense-agent.exe'
    if (Test-Path -LiteralPath $exe) {
        return '"{0}"' -f $exe
    }
    $dotnet = Get-Command dotnet.exe -ErrorAction SilentlyContinue
    if (-not $dotnet) {
        throw 'dotnet.exe was not found: install the .NET 10 runtime (the agent is framework-dependent).'
    }
    return '"{0}" "{1}"' -f $dotnet.Source, (Join-Path $Directory 'fleetlicense-agent.dll')
}

function Invoke-Agent([string] $Directory, [string[]] $Arguments) {
    $exe = Join-Path $Directory 'fleetlicense-agent.exe'
    if (Test-Path -LiteralPath $exe) {
        & $exe @Arguments
    }
    else {
        & dotnet.exe (Join-Path $Directory 'fleetlicense-agent.dll') @Arguments
    }
    if ($LASTEXITCODE -ne 0) {
        throw "fleetlicense-agent $($Arguments[0]) failed with exit code $LASTEXITCODE (see the message above; docs/agent.md lists the exit codes)."
    }
}

if ($Uninstall) {
    $service = Stop-AgentService
    if ($service) {
        & sc.exe delete $ServiceName | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "sc.exe delete $ServiceName failed with exit code $LASTEXITCODE." }
    }
    if (Test-Path -LiteralPath $InstallDir) {
        Remove-Item -LiteralPath $InstallDir -Recurse -Force
    }
    if ($RemoveData) {
        if (Test-Path -LiteralPath $DataDir) { Remove-Item -LiteralPath $DataDir -Recurse -Force }
        Write-Host "FleetLicense agent uninstalled; data directory $DataDir removed."
    }
    else {
        Write-Host "FleetLicense agent uninstalled. Data kept in $DataDir (add -RemoveData to delete it)."
    }
    return
}

$source = $PSScriptRoot
if (-not (Test-Path -LiteralPath (Join-Path $source 'fleetlicense-agent.dll'))) {
    throw "fleetlicense-agent.dll is not next to this script; run it from the published agent folder."
}

$existing = Stop-AgentService
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
if ((Resolve-Path -LiteralPath $source).Path.TrimEnd('\') -ne (Resolve-Path -LiteralPath $InstallDir).Path.TrimEnd('\')) {
    Copy-Item -Path (Join-Path $source '*') -Destination $InstallDir -Recurse -Force
}

# The secret goes through the environment so that it never shows in a process list.
$env:FLEETLICENSE_ENROLLMENT_SECRET = $Secret
try {
    Invoke-Agent $InstallDir @('enroll', '--server', $Server, '--data-dir', $DataDir)
}
finally {
    Remove-Item Env:\FLEETLICENSE_ENROLLMENT_SECRET -ErrorAction SilentlyContinue
}

$commandLine = '{0} run --data-dir "{1}"' -f (Get-AgentCommandLine $InstallDir), $DataDir
if ($existing) {
    # Setting ImagePath directly avoids sc.exe's quoting rules for paths with spaces.
    Set-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$ServiceName" -Name ImagePath -Value $commandLine
}
else {
    New-Service -Name $ServiceName -BinaryPathName $commandLine -DisplayName 'FleetLicense Agent' `
        -Description 'Reports this machine''s Windows and Office licensing state to FleetLicense.' -StartupType Automatic | Out-Null
}

& sc.exe config $ServiceName start= delayed-auto | Out-Null
if ($LASTEXITCODE -ne 0) { throw "sc.exe config failed with exit code $LASTEXITCODE." }
# Restart after 1 min, 1 min, then 5 min; forget failures after a day. failureflag 1: also when the process exits with an error.
& sc.exe failure $ServiceName reset= 86400 actions= restart/60000/restart/60000/restart/300000 | Out-Null
if ($LASTEXITCODE -ne 0) { throw "sc.exe failure failed with exit code $LASTEXITCODE." }
& sc.exe failureflag $ServiceName 1 | Out-Null

Start-Service -Name $ServiceName
Write-Host "FleetLicense agent installed in $InstallDir and started as service $ServiceName."
Invoke-Agent $InstallDir @('status', '--data-dir', $DataDir)
