<#
.SYNOPSIS
  Stop and remove the agentwatch service, its Event Log source and its
  program files.

.DESCRIPTION
  The data folder (database, service log) is kept unless -Purge is given,
  as the Linux packages keep /var/lib/agentwatch unless purged.
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
    [string] $InstallDir = (Join-Path $env:ProgramFiles 'agentwatch'),
    [string] $DataDir = (Join-Path $env:ProgramData 'agentwatch'),
    [string] $ServiceName = 'agentwatch',
    [switch] $Purge
)
$ErrorActionPreference = 'Stop'

$svc = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($svc) {
    if ($svc.Status -ne 'Stopped') {
        Stop-Service -Name $ServiceName -Force
        $svc.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
    }
    & sc.exe delete $ServiceName | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "sc.exe delete $ServiceName failed ($LASTEXITCODE)" }
}
# The Event Log source install.ps1 registered (its events stay in the
# Application log, shown without their text from now on).
$evtKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\Application\agentwatch'
if (Test-Path -LiteralPath $evtKey) {
    Remove-Item -Recurse -Force -LiteralPath $evtKey
    Write-Host "Removed the Event Log source agentwatch"
}
# This script may itself live in InstallDir: remove the rest first.
if (Test-Path $InstallDir) {
    Get-ChildItem -Force $InstallDir | Where-Object { $_.Name -ne 'uninstall.ps1' } |
        Remove-Item -Recurse -Force
    Remove-Item -Recurse -Force $InstallDir -ErrorAction SilentlyContinue
}
if ($Purge -and (Test-Path $DataDir)) {
    Remove-Item -Recurse -Force $DataDir
    Write-Host "Removed $DataDir"
} elseif (Test-Path $DataDir) {
    Write-Host "Kept $DataDir (database and log); run with -Purge to remove it"
}
