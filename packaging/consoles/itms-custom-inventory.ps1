<#
.SYNOPSIS
  agentwatch in Symantec/Broadcom ITMS: a custom inventory script that
  sends the endpoint's status as one row of a custom data class.

.DESCRIPTION
  ITMS custom inventory (Inventory Solution, Broadcom knowledge articles
  178432 and 376499): first create the custom data class in the console
  (Settings > Discovery and Inventory > Inventory Solution > Manage Custom
  Data Classes) with these columns, in this order, and copy its GUID below:

     0  Status        String  16    OK, WARNING, CRITICAL or UNKNOWN
     1  State         String  16    healthy, failing or unknown
     2  Since         String  32    ISO-8601 UTC, empty when none
     3  Failures      Int
     4  Category      String  64    most frequent failure category
     5  Target        String  255   server the failures name most often
     6  LastSuccess   String  32
     7  LastProbe     String  255   "<time> <target> <verdict>", empty when none
     8  Error         String  255   why UNKNOWN, empty otherwise

  Then a "Run Script on Client Computer" task of script type PowerShell
  with this text.  The NSE is built with the agent's Altiris.AeXNSEvent
  object (Symantec HOWTO31200, "AeXNSEvent NSE Generator": To, Priority,
  AddDataClass, AddDataBlock, AddRow, SetField, SendQueued).

  Caveat: the NSE travels over the agent's own channel -- the one a server
  certificate change breaks.  It is queued until the channel works again:
  what this inventory gives is the post-mortem and the partial outages.
  For the endpoints that are silent right now, use a channel that does not
  depend on the agent (Intune: status --format intune; a log shipper: follow
  --spool; a monitoring agent: status).  Not tested on an ITMS agent here:
  written against the documentation cited above.
#>
$ErrorActionPreference = 'Stop'
$dataClassGuid = '{00000000-0000-0000-0000-000000000000}'   # your data class
$exe = Join-Path $env:ProgramFiles 'agentwatch\agentwatch.exe'
[Console]::OutputEncoding = [Text.Encoding]::UTF8

function Text($value, $max) {
    if ($null -eq $value) { return '' }
    $t = [string]$value
    if ($t.Length -gt $max) { $t = $t.Substring(0, $max) }
    return $t
}

try {
    $s = ((& $exe status --format json 2>$null) | Out-String) | ConvertFrom-Json
} catch {
    $s = [pscustomobject]@{ status = 'UNKNOWN'; state = 'unknown'; failures = 0
                            error = "agentwatch did not answer: $($_.Exception.Message)" }
}
$probe = ''
if ($s.last_probe) {
    $probe = "$($s.last_probe.time) $($s.last_probe.target) $($s.last_probe.verdict)"
}

# The NSE's addressing, as every custom inventory script sets it.
$nse = New-Object -ComObject Altiris.AeXNSEvent
$nse.To = '{1592B913-72F3-4C36-91D2-D4EDA21D2F96}'
$nse.Priority = 1
$block = $nse.AddDataBlock($nse.AddDataClass($dataClassGuid))
$row = $block.AddRow()
$row.SetField(0, (Text $s.status 16))
$row.SetField(1, (Text $s.state 16))
$row.SetField(2, (Text $s.since 32))
$row.SetField(3, [int]$s.failures)
$row.SetField(4, (Text $s.category 64))
$row.SetField(5, (Text $s.target 255))
$row.SetField(6, (Text $s.last_success 32))
$row.SetField(7, (Text $probe 255))
$row.SetField(8, (Text $s.error 255))
$nse.SendQueued()
