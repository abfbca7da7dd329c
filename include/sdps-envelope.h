/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef SDPS_ENVELOPE_H
#define SDPS_ENVELOPE_H

/* SDPS envelope data from the headers delivery recorded, and the *ENV
   reply built from it. Pure: no mail storage. */

/* Header names of a setting such as "Delivered-To X-Original-To" (space
   or comma separated), allocated from the data stack. */
const char *const *sdps_envelope_header_list(const char *setting);

/* The address of a header value: "<a@b>", "a@b (comment)",
   "Name <a@b>, c@d" -> "a@b"; "<>" -> "". Returns FALSE when the address
   cannot go into a reply line (CR, LF, space or other control bytes).
   The address is allocated from the data stack. */
bool sdps_envelope_address(const char *value, const char **addr_r);

/* TRUE if the local part of addr (all of it without '@') is user,
   compared case-insensitively. */
bool sdps_envelope_local_part_is(const char *addr, const char *user);

/* The *ENV reply: status line, message number and size, host, envelope
   sender and recipient ("<>" when empty), ".", lines separated by CRLF
   (no CRLF after the final "."). */
void sdps_envelope_reply_append(string_t *dest, unsigned int msgnum,
				uoff_t size, const char *host,
				const char *sender, const char *recipient);

#endif
