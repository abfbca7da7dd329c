/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef SDPS_NAME_H
#define SDPS_NAME_H

/* SDPS (Demon Internet's Standard Dial-up POP3 Service) login names:
   "host" (the whole host account), "user@host" or "user+host" (the
   messages of one user of that host). */

/* Longest login name, user part and host part accepted. */
#define SDPS_NAME_MAX_LEN 255
#define SDPS_USER_MAX_LEN 64
#define SDPS_HOST_MAX_LEN 253

struct sdps_name {
	/* "" when the name was just a host */
	const char *user;
	const char *host;
};

/* Parse a login name. separators lists the characters that may separate
   user and host (e.g. "@+"). At most one separator may appear; user and
   host must be non-empty and made of safe characters (letters, digits and
   ".-_=" in the user part; letters, digits, '.' and '-' in the host).
   Returns 0, or -1 with a client-printable *error_r. Results are allocated
   from the data stack. */
int sdps_name_parse(const char *name, const char *separators,
		    struct sdps_name *name_r, const char **error_r);

/* Expand a login mapping template with %{user}, %{host} and %%. Unknown
   variables are an error (the template is an admin setting). */
int sdps_name_expand(const char *template, const struct sdps_name *name,
		     const char **result_r, const char **error_r);

/* TRUE if the template uses %{user}: then every user has an account of
   their own and no per-user view is needed. */
bool sdps_template_has_user(const char *template);

#endif
