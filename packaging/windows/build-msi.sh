#!/usr/bin/env bash
# Build the Windows MSI with wixl and msibuild (Debian's wixl and msitools):
# agentwatch.exe, rules\ and README.txt in ProgramFiles64Folder\agentwatch,
# the example configuration as C:\ProgramData\agentwatch\agentwatch.yaml
# (kept on upgrade and uninstallation), and the "agentwatch" service with
# install.ps1's command line.  Cross-builds first.  See agentwatch.wxs and
# packaging/windows/README.md.
#
#   packaging/windows/build-msi.sh [BUILD_DIR]      (default: build-windows)
#   AW_MSI_VERSION=0.1.1 packaging/windows/build-msi.sh    (another version)
# Result: BUILD_DIR/agentwatch-VERSION-windows-x86_64.msi (path on stdout).
#
# The MSI's ProductVersion is the meson version without any suffix
# (MSI versions are three numbers); AW_MSI_VERSION replaces it, and then
# names the file too (the wine test builds a "newer" MSI this way).
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/deps.sh wixl msitools faketime
. packaging/lib.sh
exe=$(packaging/windows/build.sh "${1:-build-windows}")
build=$(cd "${1:-build-windows}" && pwd)
version=$(sed -n "s/^  version: '\(.*\)',/\1/p" meson.build | head -n1)
msi_version=${AW_MSI_VERSION:-$(sed -n 's/^\([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' <<<"$version")}
IFS=. read -r major minor patch <<<"$msi_version"
if ! [[ "$msi_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || [ "$major" -gt 255 ] ||
   [ "$minor" -gt 255 ] || [ "$patch" -gt 65535 ]; then
    echo "build-msi: '$msi_version' is no MSI version (0-255.0-255.0-65535)" >&2
    exit 1
fi
name=agentwatch-${AW_MSI_VERSION:-$version}-windows-x86_64
stage=$build/msi/stage
msifile=$build/$name.msi

# Fixed for good (agentwatch.wxs has the same): every version of the
# package shares it, so that a newer one replaces an older one.
upgrade_code=39B8CA6F-4FFC-4C72-8A61-D3ED7CB2435E
# One ProductCode per version, derived: the SHA-1 of UpgradeCode and
# version in the layout of an RFC 4122 version-5 UUID.  A rebuild of a
# version is the same product, which Windows Installer does not install
# a second time beside the first.
h=$(printf '%s/%s/x64' "$upgrade_code" "$msi_version" | sha1sum | tr a-f A-F)
variant=$(printf '%X' $(((16#${h:16:1} & 3) | 8)))
product_code=${h:0:8}-${h:8:4}-5${h:13:3}-$variant${h:17:3}-${h:20:12}

rm -rf "$build/msi" "$msifile"
mkdir -p "$stage/rules"
cp "$exe" "$stage/agentwatch.exe"
crlf() { sed 's/\r*$/\r/' "$1" >"$2"; }
crlf packaging/windows/README.txt "$stage/README.txt"
crlf packaging/windows/agentwatch.yaml "$stage/agentwatch.yaml"
# The console scripts (agentwatch.wxs names each: the set is fixed).
mkdir -p "$stage/consoles"
for f in packaging/consoles/*.ps1; do
    crlf "$f" "$stage/consoles/$(basename "$f")"
done

# The rules: one component, one File per rule file (the set changes
# between versions; a major upgrade removes the old set first).
{
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Fragment>'
    echo '  <DirectoryRef Id="RULESDIR">'
    echo '    <Component Id="Rules" Guid="5CCC25DA-2B29-40F1-8B8B-F16E78B22BF9" Win64="yes">'
    key=yes
    for f in rules/*.yaml rules/*.yml; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        if ! [[ "$b" =~ ^[A-Za-z0-9._-]+$ ]]; then
            echo "build-msi: rule file name '$b': only A-Z a-z 0-9 . _ - make a File Id" >&2
            exit 1
        fi
        crlf "$f" "$stage/rules/$b"
        echo "      <File Id=\"rules_${b//-/_}\" Name=\"$b\" Source=\"stage/rules/$b\" KeyPath=\"$key\" />"
        key=no
    done
    # The rule schema, beside the rules it describes.
    crlf rules/README.md "$stage/rules/README.md"
    echo '      <File Id="rules_README.md" Name="README.md" Source="stage/rules/README.md" KeyPath="no" />'
    echo '    </Component>'
    echo '  </DirectoryRef>'
    echo '</Fragment></Wix>'
} >"$build/msi/rules.wxs"
[ "$key" = no ] || { echo "build-msi: no rule files in rules/" >&2; exit 1; }

# Reproducible: the cabinet takes the files' times, the summary its
# creation time from the clock (wixl and msibuild run at SOURCE_DATE_EPOCH,
# frozen, under faketime), the PackageCode is derived from what the
# package holds (as ProductCode above) and set with msibuild -s below;
# tested by scripts/test-windows.sh.
find "$stage" "$build/msi/rules.wxs" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
h=$({ (cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
       cat "$build/msi/rules.wxs" packaging/windows/agentwatch.wxs
       echo "$product_code $SOURCE_DATE_EPOCH"; } | sha1sum | tr a-f A-F)
variant=$(printf '%X' $(((16#${h:16:1} & 3) | 8)))
package_code=${h:0:8}-${h:8:4}-5${h:13:3}-$variant${h:17:3}-${h:20:12}
frozen() { TZ=UTC faketime -f "$(TZ=UTC date -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')" "$@"; }

# wixl takes Source paths relative to the current folder only.
wxs=$(pwd)/packaging/windows/agentwatch.wxs
(cd "$build/msi" && frozen wixl --arch x64 -D Version="$msi_version" -D ProductCode="$product_code" \
    -D Stage=stage -o "$name.msi" "$wxs" rules.wxs)

# What wixl has no syntax for, in SQL on the built database (msibuild):
# - The Event Log source's EventMessageFile as REG_EXPAND_SZ (a Registry
#   value starting with "#%"), as the Event Log documents it; wixl writes
#   Type="expandable" as a plain string.
# - Component attributes: Permanent (16) for the data folder and the
#   configuration (kept on uninstallation, as the Linux packages keep
#   theirs), NeverOverwrite (16384) for the configuration (an existing
#   file is never replaced); 256 is the 64-bit bit wixl already set.
# - The configuration's component also has the condition NOT CONFIGFILE,
#   CONFIGFILE being the file where AppSearch found it (Signature and
#   DrLocator): it is installed only where there is none.  That is what
#   NeverOverwrite means, said a second way that wine's msi honours too
#   (it ignores NeverOverwrite and replaces the file).
# - ServiceInstall: the installation fails if the service cannot be
#   registered (msidbServiceInstallErrorControlVital, 32768).
# - AGENTLOG is a secure property (passed to the elevated part of a
#   per-machine installation).
# - MsiLockPermissionsEx (Windows Installer 5): the data folder for
#   SYSTEM and Administrators only, not inherited (install.ps1's icacls);
#   the configuration in it also readable by Users, because every
#   agentwatch command reads it.
# - MsiServiceConfigFailureActions with MsiConfigureServices between
#   InstallServices and StartServices: restart after 1 min, 1 min, then
#   5 min, count reset after a day (install.ps1's sc.exe failure).
queries=()
while IFS= read -r line; do
    [ -z "$line" ] || queries+=(-q "$line")
done <<'SQL'
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'DataDir'
UPDATE `Registry` SET `Value` = '#%[INSTALLDIR]agentwatch.exe' WHERE `Component_` = 'EventSource' AND `Name` = 'EventMessageFile'
UPDATE `Component` SET `Attributes` = 16656, `Condition` = 'NOT CONFIGFILE' WHERE `Component` = 'Config'
INSERT INTO `Signature` (`Signature`, `FileName`) VALUES ('ConfigFile', 'agentwatch.yaml')
CREATE TABLE `DrLocator` (`Signature_` CHAR(72) NOT NULL, `Parent` CHAR(72), `Path` CHAR(255), `Depth` SHORT PRIMARY KEY `Signature_`, `Parent`, `Path`)
INSERT INTO `DrLocator` (`Signature_`, `Path`, `Depth`) VALUES ('ConfigFile', '[CommonAppDataFolder]agentwatch', 0)
INSERT INTO `AppSearch` (`Property`, `Signature_`) VALUES ('CONFIGFILE', 'ConfigFile')
UPDATE `ServiceInstall` SET `ErrorControl` = 32769 WHERE `ServiceInstall` = 'agentwatch'
UPDATE `Property` SET `Value` = 'WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;AGENTLOG' WHERE `Property` = 'SecureCustomProperties'
CREATE TABLE `MsiLockPermissionsEx` (`MsiLockPermissionsEx` CHAR(72) NOT NULL, `LockObject` CHAR(72) NOT NULL, `Table` CHAR(32) NOT NULL, `SDDLText` LONGCHAR NOT NULL, `Condition` CHAR(255) PRIMARY KEY `MsiLockPermissionsEx`)
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('DataDirAcl', 'DATADIR', 'CreateFolder', 'D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)')
INSERT INTO `MsiLockPermissionsEx` (`MsiLockPermissionsEx`, `LockObject`, `Table`, `SDDLText`) VALUES ('ConfigAcl', 'agentwatch.yaml', 'File', 'D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)')
CREATE TABLE `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL, `Event` SHORT NOT NULL, `ResetPeriod` LONG, `RebootMessage` CHAR(255) LOCALIZABLE, `Command` CHAR(255) LOCALIZABLE, `Actions` CHAR(255), `DelayActions` CHAR(255), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfigFailureActions`)
INSERT INTO `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions`, `Name`, `Event`, `ResetPeriod`, `Actions`, `DelayActions`, `Component_`) VALUES ('agentwatchRestart', 'agentwatch', 5, 86400, '1[~]1[~]1', '60000[~]60000[~]300000', 'Program')
INSERT INTO `InstallExecuteSequence` (`Action`, `Condition`, `Sequence`) VALUES ('MsiConfigureServices', 'VersionNT >= 600', 5850)
SQL
# -s: the summary's Subject (as agentwatch.wxs has it), Author, Template
# and the derived PackageCode in place of wixl's random one.
frozen msibuild "$build/msi/$name.msi" "${queries[@]}" \
    -s "agentwatch $msi_version (Windows x86-64)" agentwatch "x64;1033" "{$package_code}"

mv "$build/msi/$name.msi" "$msifile"
echo "build-msi: $(du -k "$msifile" | cut -f1) KiB, ProductVersion $msi_version," \
     "ProductCode {$product_code}" >&2
echo "$msifile"
