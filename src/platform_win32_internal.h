/*
 * The Windows platform files' shared conversions (platform_win32.c defines
 * them; platform_win32_proc.c uses them too).  Not part of platform.h: the
 * core never sees a wchar_t or a Win32 error code.
 */
#ifndef AGENTWATCH_PLATFORM_WIN32_INTERNAL_H
#define AGENTWATCH_PLATFORM_WIN32_INTERNAL_H

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stddef.h>
#include <wchar.h>

/* errno for a Win32 error code. */
int aw_win_map_error(DWORD e);

/* errno from GetLastError(). */
void aw_win_set_errno(void);

/* A UTF-8 string as a new UTF-16 one (the caller frees it); NULL with
 * errno set when it is not valid UTF-8 or memory runs out. */
wchar_t *aw_win_to_wide(const char *s);

/* w as UTF-8 in buf; 0, or -1 when it does not fit. */
int aw_win_to_utf8_buf(const wchar_t *w, char *buf, size_t size);

#endif
