<#
.SYNOPSIS
  agentwatch in Intune Remediations: the detection script.

.DESCRIPTION
  'agentwatch status --format intune' already keeps the detection
  contract (Microsoft Learn, "Use Remediations to detect and fix support
  issues", learn.microsoft.com/mem/intune/fundamentals/remediations): exit
  1 only when a remediation should run (WARNING or CRITICAL), 0 otherwise;
  one line of at most 2,048 characters on stdout, which the console shows
  as the pre-remediation detection output; nothing on stderr, ever.  This
  wrapper only passes its line and exit code through.

  Add it as the detection script of a script package: run in 64-bit
  PowerShell, not with the logged-on credentials (LocalSystem reads the
  service's database), signature check off or this file signed.  Save as
  UTF-8 without BOM.  Not tested in an Intune tenant here.
#>
$exe = Join-Path $env:ProgramFiles 'agentwatch\agentwatch.exe'
[Console]::OutputEncoding = [Text.Encoding]::UTF8
if (-not (Test-Path -LiteralPath $exe)) {
    Write-Output 'UNKNOWN: agentwatch is not installed'
    exit 0
}
$line = & $exe status --format intune --max-age 2d
$code = $LASTEXITCODE
Write-Output $line
exit $code
