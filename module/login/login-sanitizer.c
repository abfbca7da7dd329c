/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop-login in sanitizer builds only (configure --enable-sanitizers):
   let LeakSanitizer check the login process at exit.

   Dovecot's login-common makes a login process unable to fork with
   restrict_process_count(1), which sets both the soft and the hard
   RLIMIT_NPROC to 1.  LeakSanitizer's exit-time check runs in a tracer task
   that it clones, which that limit forbids, so a login process could not be
   checked for leaks.  This file replaces restrict_process_count() in this
   binary (the executable's definition wins over libdovecot's for the call
   from login-common): it lowers only the soft limit, so the process still
   cannot fork while it serves its client, and an exit handler raises the
   soft limit back to the hard limit just before LeakSanitizer's own exit
   handler runs (exit handlers run in reverse order of registration, and
   the sanitizer runtime registers its handler before any constructor). */

#include "lib.h"
#include "restrict-process-size.h"

#include <sys/resource.h>

void restrict_process_count(rlim_t count)
{
	struct rlimit rlim;

	if (getrlimit(RLIMIT_NPROC, &rlim) < 0) {
		i_error("getrlimit(RLIMIT_NPROC) failed: %m");
		rlim.rlim_max = count;
	}
	rlim.rlim_cur = count;
	if (rlim.rlim_max != RLIM_INFINITY && rlim.rlim_max < count)
		rlim.rlim_max = count;
	if (setrlimit(RLIMIT_NPROC, &rlim) < 0) {
		i_error("setrlimit(RLIMIT_NPROC, %llu): %m",
			(unsigned long long)count);
	}
}

static void login_sanitizer_exit(void)
{
	struct rlimit rlim;

	/* no i_error() here: the log may be gone at this point */
	if (getrlimit(RLIMIT_NPROC, &rlim) == 0 &&
	    rlim.rlim_cur != rlim.rlim_max) {
		rlim.rlim_cur = rlim.rlim_max;
		(void)setrlimit(RLIMIT_NPROC, &rlim);
	}
}

static void __attribute__((constructor)) login_sanitizer_init(void)
{
	if (atexit(login_sanitizer_exit) != 0)
		i_unreached();
}
