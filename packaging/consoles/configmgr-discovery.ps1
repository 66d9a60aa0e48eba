<#
.SYNOPSIS
  agentwatch in a ConfigMgr configuration item: the discovery script of a
  script setting.

.DESCRIPTION
  Runs 'agentwatch status --format json' and prints exactly one value line,
  then exits 0, whatever agentwatch said.  ConfigMgr's contract for a
  discovery script: "If the script returns a non-zero exit code, the result
  is a discovery failure"; with exit code zero the output is evaluated and
  cast to the setting's data type (Microsoft Learn, "About compliance
  settings (DCM) extensibility", learn.microsoft.com/intune/configmgr/
  develop/compliance/about-compliance-settings--dcm--extensibility).  A
  non-zero exit would hide the diagnosis behind "discovery failure", so
  agentwatch's exit status (1 WARNING, 2 CRITICAL, 3 UNKNOWN) is read
  from the JSON instead.

  The value line:
    OK
    OK <n> failures <category> <target> since <time>   (failing, at most --warn)
    WARNING <n> failures <category> <target> since <time>
    CRITICAL <n> failures <category> <target> since <time>
    UNKNOWN <why>

  Setting (console: Assets and Compliance > Compliance Settings >
  Configuration Items > Settings > New; or Add-CMComplianceSettingScript
  -DataType String -DiscoveryScriptLanguage PowerShell -Is64Bit, Microsoft
  Learn, ConfigurationManager module reference):
    Setting type: Script, data type: String, 64-bit host.
  Compliance rule: Value; the value returned by the script "Begins with"
    OK.  Non-compliant endpoints then show the whole line as the
    discovered ("actual") value in the compliance reports.

  Runs as LocalSystem, which reads the service's database
  (%ProgramData%\agentwatch\agentwatch.db, the default).  Not tested on a
  ConfigMgr client here: written against the documentation cited above.
#>
$ErrorActionPreference = 'Stop'
$exe = Join-Path $env:ProgramFiles 'agentwatch\agentwatch.exe'
# agentwatch writes UTF-8; PowerShell decodes a native command's output
# with the console's encoding.
[Console]::OutputEncoding = [Text.Encoding]::UTF8
try {
    # --max-age: an OK about old data is not compliance.
    $json = & $exe status --format json --max-age 2d 2>$null
    $s = ($json | Out-String) | ConvertFrom-Json
    if ($s.status -eq 'UNKNOWN') {
        $value = "UNKNOWN $($s.error)"
        if (-not $s.error) { $value = 'UNKNOWN no findings' }
    } elseif ($s.state -eq 'failing') {
        $value = "$($s.status) $($s.failures) failures $($s.category) $($s.target) since $($s.since)"
    } else {
        $value = 'OK'
    }
} catch {
    $value = "UNKNOWN agentwatch did not answer: $($_.Exception.Message)"
}
Write-Output ($value -replace '\s+', ' ').Trim()
exit 0
