/*
 * The probe's Windows engine, its two halves (issue 12):
 * src/probe_win32_tls.c the network -- name resolution, TCP with a
 * deadline, the Schannel handshake -- and src/probe_engine_win32.c the
 * chain as CryptoAPI builds and judges it.  Private; not installed.
 */
#ifndef AGENTWATCH_PROBE_WIN32_H
#define AGENTWATCH_PROBE_WIN32_H

#include <stdbool.h>
#include <stdint.h>

/* CERT_CHAIN_PARA with dwUrlRetrievalTimeout (wincrypt.h). */
#define CERT_CHAIN_PARA_HAS_EXTRA_FIELDS
#include <winsock2.h>
#include <windows.h>
#include <wincrypt.h>

#include "agentwatch/probe.h"

/* Resolve, connect and shake hands with t as opts bound it, recording the
 * dns, tcp and tls steps (and the verdict of a failing one) in r.  On
 * success *leaf is the server's certificate, its hCertStore holding every
 * certificate the server sent (the caller frees it); otherwise NULL. */
int aw_win_tls_connect(const struct aw_probe_target *t, const struct aw_probe_opts *opts,
                       struct aw_probe_result *r, int64_t *t0, PCCERT_CONTEXT *leaf);

/* Wide text as UTF-8 into out (always terminated). */
void aw_win_utf8(const wchar_t *w, char *out, size_t size);

/* The system's message for error code e (a Win32, WinSock, SEC_E_ or
 * CRYPT_E_ value), with the code: "The operation timed out (0x...)". */
void aw_win_error_text(unsigned long e, char *out, size_t size);

#endif
