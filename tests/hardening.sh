#!/usr/bin/env bash
# The hardening a packaged binary must show, read from the binary itself:
#
#     tests/hardening.sh BINARY          (an ELF executable: the .deb's, the .rpm's)
#     tests/hardening.sh --pe EXE [UNSTRIPPED_EXE]   (the mingw-w64 build)
#
# ELF (what dpkg-buildflags' hardening=+all gives): a position-independent
# executable (PIE), BIND_NOW and a GNU_RELRO segment (full RELRO), the
# stack protector (__stack_chk_fail) and fortified libc calls (*_chk) in
# the dynamic symbols, and no .comment section.
# PE: DllCharacteristics DYNAMIC_BASE (ASLR), HIGH_ENTROPY_VA (64-bit ASLR),
# NX_COMPAT (DEP) and a .reloc section for ASLR to use; in the unstripped
# exe (the stripped one has no symbol table) the stack protector and
# fortified calls.  Prints one line per property; exits 1 when one lacks.
set -euo pipefail

fail=0
check() {  # check NAME CONDITION-OUTPUT
    if [ -n "$2" ]; then echo "ok: $1"; else echo "MISSING: $1"; fail=1; fi
}

if [ "${1:-}" = --pe ]; then
    exe=${2:?usage: hardening.sh --pe EXE [UNSTRIPPED_EXE]}
    syms=${3:-$exe}
    objdump=x86_64-w64-mingw32-objdump
    headers=$($objdump -p "$exe")
    check "DYNAMIC_BASE (ASLR)" "$(grep -w DYNAMIC_BASE <<<"$headers" || :)"
    check "HIGH_ENTROPY_VA" "$(grep -w HIGH_ENTROPY_VA <<<"$headers" || :)"
    check "NX_COMPAT (DEP)" "$(grep -w NX_COMPAT <<<"$headers" || :)"
    check ".reloc section" "$($objdump -h "$exe" | awk '$2 == ".reloc"')"
    symbols=$(x86_64-w64-mingw32-nm "$syms")
    check "stack protector (__stack_chk_fail)" "$(grep -w __stack_chk_fail <<<"$symbols" || :)"
    # mingw-w64's fortified headers expand to gcc's __builtin___*_chk,
    # which fail through libssp's __chk_fail: linked only when a call is
    # fortified.
    check "fortified calls (__chk_fail)" "$(grep -E ' (__chk_fail|__[a-z]+_chk)$' <<<"$symbols" || :)"
    exit $fail
fi

bin=${1:?usage: hardening.sh BINARY | --pe EXE [UNSTRIPPED_EXE]}
header=$(readelf -hW "$bin")
dynamic=$(readelf -dW "$bin")
check "PIE (FLAGS_1 PIE)" "$(grep -E 'FLAGS_1.*PIE' <<<"$dynamic" || :)"
check "BIND_NOW" "$(grep -E 'BIND_NOW|FLAGS_1.* NOW' <<<"$dynamic" || :)"
check "full RELRO (GNU_RELRO)" "$(readelf -lW "$bin" | grep -w GNU_RELRO || :)"
symbols=$(nm -D "$bin")
check "stack protector (__stack_chk_fail)" "$(grep -w '__stack_chk_fail' <<<"$symbols" || :)"
check "fortified calls (*_chk)" "$(grep -E ' __[a-z]+_chk(@|$)' <<<"$symbols" || :)"
sections=$(readelf -SW "$bin")   # not `| grep -q`: SIGPIPE under pipefail
check "no .comment section" "$(grep -q '\.comment' <<<"$sections" || echo absent)"
exit $fail
