<#
.SYNOPSIS
  Install agentwatch and register `agentwatch follow` as a Windows service.

.DESCRIPTION
  Copies agentwatch.exe and the rules from this folder to -InstallDir,
  checks the rules, registers the Event Log source agentwatch of the
  Application log (EventMessageFile: the installed agentwatch.exe),
  creates -DataDir (database and lock file; full control for SYSTEM and
  Administrators only), and registers the service (automatic start,
  LocalSystem, restarted on failure):

    "<InstallDir>\agentwatch.exe" service --log "<DataDir>\agentwatch.log"
        --db "<DataDir>\agentwatch.db" follow --rules "<InstallDir>\rules" SOURCE...

  Run again to upgrade: the service is stopped, the files replaced, the
  service reconfigured and started; the database is kept.
  Reload the rules without a restart: sc.exe control agentwatch paramchange

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1
.EXAMPLE
  .\install.ps1 -Source 'D:\Agent\Logs\agent.log' -PollIntervalMs 2000
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
    [string]   $InstallDir = (Join-Path $env:ProgramFiles 'agentwatch'),
    [string]   $DataDir = (Join-Path $env:ProgramData 'agentwatch'),
    [string[]] $Source = @(Join-Path $env:ProgramData 'Symantec\Symantec Agent\Logs\agent.log'),
    [string]   $ServiceName = 'agentwatch',
    [int]      $PollIntervalMs = 0,
    [switch]   $NoStart
)
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
function Quote([string] $s) { '"' + $s + '"' }

$svc = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($svc -and $svc.Status -ne 'Stopped') {
    Write-Host "Stopping $ServiceName"
    Stop-Service -Name $ServiceName -Force
    $svc.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
}

Write-Host "Installing to $InstallDir"
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
Copy-Item -Force (Join-Path $here 'agentwatch.exe') $InstallDir
Copy-Item -Force (Join-Path $here 'README.txt') $InstallDir
# Replace the rules as a whole, so that a rule removed upstream goes too.
$rules = Join-Path $InstallDir 'rules'
if (Test-Path $rules) { Remove-Item -Recurse -Force $rules }
Copy-Item -Recurse (Join-Path $here 'rules') $rules
Copy-Item -Force (Join-Path $here 'uninstall.ps1') $InstallDir

$exe = Join-Path $InstallDir 'agentwatch.exe'
& $exe rules check --rules $rules
if ($LASTEXITCODE -ne 0) { throw "agentwatch rules check failed ($LASTEXITCODE)" }

# The Event Log source agentwatch of the Application log: its messages are
# the exe's message table (src/events.mc); TypesSupported 7 = error,
# warning, information.  The same values as the MSI's component EventSource
# (agentwatch.wxs); tests/windows/package-contents.sh checks they agree.
# Without them Event Viewer shows "The description for Event ID 1000 ...
# cannot be found" and only the inserts.  uninstall.ps1 removes the key.
$evtKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\agentwatch'
if (-not (Test-Path -LiteralPath $evtKey)) { New-Item -Path $evtKey | Out-Null }
New-ItemProperty -Force -LiteralPath $evtKey -Name 'EventMessageFile' -PropertyType ExpandString -Value $exe | Out-Null
New-ItemProperty -Force -LiteralPath $evtKey -Name 'TypesSupported' -PropertyType DWord -Value 7 | Out-Null
Write-Host "Registered the Event Log source agentwatch (Application)"

# The data folder holds findings that quote log messages: SYSTEM and
# Administrators only (the 0700 of /var/lib/agentwatch on Linux).
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
& icacls.exe $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls $DataDir failed ($LASTEXITCODE)" }

foreach ($s in $Source) {
    if (-not (Test-Path -LiteralPath (Split-Path -Parent $s))) {
        Write-Warning "the folder of $s does not exist yet; the service fails until it does"
    }
}
# A service has no console: follow's start and summary lines, reloads,
# data gaps and errors go to <DataDir>\agentwatch.log; the SCM records the
# exit status.
$cmd = @('service', '--log', (Quote (Join-Path $DataDir 'agentwatch.log')),
         '--db', (Quote (Join-Path $DataDir 'agentwatch.db')),
         'follow', '--rules', (Quote $rules))
if ($PollIntervalMs -gt 0) { $cmd += @('--poll-interval', $PollIntervalMs) }
$cmd += ($Source | ForEach-Object { Quote $_ })
$binPath = (Quote $exe) + ' ' + ($cmd -join ' ')

if ($svc) {
    & sc.exe config $ServiceName binPath= $binPath start= auto | Out-Null
} else {
    New-Service -Name $ServiceName -BinaryPathName $binPath -StartupType Automatic `
        -DisplayName 'agentwatch' `
        -Description 'Classifies management-agent log records (TLS, connection, name resolution) into a local findings database.' | Out-Null
}
if ($LASTEXITCODE -and $LASTEXITCODE -ne 0) { throw "sc.exe config failed ($LASTEXITCODE)" }
# Restart after a crash: 1 min, 1 min, then every 5 min; reset after a day.
& sc.exe failure $ServiceName reset= 86400 actions= restart/60000/restart/60000/restart/300000 | Out-Null

if (-not $NoStart) {
    Start-Service -Name $ServiceName
    Write-Host "Started $ServiceName"
}
Write-Host "Report: & '$exe' --db '$(Join-Path $DataDir 'agentwatch.db')' report"
