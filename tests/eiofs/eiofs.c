/* SPDX-License-Identifier: LGPL-2.1-only */
/* eiofs: a FUSE pass-through file system for altpop's fault tests
   (tests/integration/eiofs.py, doc/testing.md "Faults") that fails chosen
   operations with EIO.

   usage: eiofs -c CONTROL [-l LOG [-t]] DIR

   DIR is mounted over itself: eiofs opens DIR before mounting and passes
   every operation on to the directory underneath, so the files there stay
   where they are and are seen unchanged when eiofs is unmounted.  Each
   operation runs with the file system uid and gid of the process that
   asked (setfsuid), so ownership and permission checks are the backing
   file system's own (its supplementary groups are not passed on); eiofs
   runs single-threaded for that.  An open file unlinked or renamed over
   keeps a hidden name (.fuse_hidden*) until it is closed, as libfuse's
   path API does by default.

   CONTROL is re-read whenever it changes (write a new one and rename it
   over the old).  One rule a line, '#' starts a comment:

     OP GLOB [FROM]

   OP is one of open (any open), open-write (an open or create for
   writing), read, write, fsync (files and directories), rename (the old
   or the new name), unlink, rmdir, mkdir, link, truncate, setattr (chmod,
   chown, utimens) or * (all of them).  GLOB is matched with fnmatch()
   against the path relative to DIR, without a leading slash; '*' matches
   '/' too.  FROM (read and write only): fail only a request that reaches
   byte FROM or beyond, so a file can be read part way.  An operation that
   a rule matches fails with EIO and is not passed on; LOG gets a line
   "EIO OP PATH" for each (and with -t "OK OP PATH" for each other one a
   rule could have failed). */

#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#define EIOFS_MAX_RULES 64
#define EIOFS_MAX_LINE 1024

enum eiofs_op {
	EIOFS_OP_OPEN,
	EIOFS_OP_OPEN_WRITE,
	EIOFS_OP_READ,
	EIOFS_OP_WRITE,
	EIOFS_OP_FSYNC,
	EIOFS_OP_RENAME,
	EIOFS_OP_UNLINK,
	EIOFS_OP_RMDIR,
	EIOFS_OP_MKDIR,
	EIOFS_OP_LINK,
	EIOFS_OP_TRUNCATE,
	EIOFS_OP_SETATTR,
	EIOFS_OP_COUNT,
	EIOFS_OP_ALL = EIOFS_OP_COUNT,
};

static const char *const eiofs_op_names[EIOFS_OP_COUNT] = {
	[EIOFS_OP_OPEN] = "open",
	[EIOFS_OP_OPEN_WRITE] = "open-write",
	[EIOFS_OP_READ] = "read",
	[EIOFS_OP_WRITE] = "write",
	[EIOFS_OP_FSYNC] = "fsync",
	[EIOFS_OP_RENAME] = "rename",
	[EIOFS_OP_UNLINK] = "unlink",
	[EIOFS_OP_RMDIR] = "rmdir",
	[EIOFS_OP_MKDIR] = "mkdir",
	[EIOFS_OP_LINK] = "link",
	[EIOFS_OP_TRUNCATE] = "truncate",
	[EIOFS_OP_SETATTR] = "setattr",
};

struct eiofs_rule {
	enum eiofs_op op;
	char glob[EIOFS_MAX_LINE];
	off_t from;
};

/* an open file: its descriptor and its path, the name it was opened by
   or last given by a rename or link (Dovecot writes a dotlock through a
   temporary file linked to the lock's name, and a transaction log
   through a ".newlock" file renamed into place): read, write and fsync
   rules match that */
struct eiofs_file {
	int fd;
	char *path;
	struct eiofs_file *prev, *next;
};

static int root_fd = -1;
static const char *control_path;
static FILE *fault_log;
static struct eiofs_rule rules[EIOFS_MAX_RULES];
static unsigned int rule_count;
static struct stat control_st;
/* -t: log every operation a rule could fail ("OK OP PATH") */
static bool trace;

static struct eiofs_file *open_files;

/* the open files named from are now named to */
static void eiofs_files_renamed(const char *from, const char *to)
{
	for (struct eiofs_file *file = open_files; file != NULL;
	     file = file->next) {
		char *path;

		if (strcmp(file->path, from) != 0 ||
		    (path = strdup(to)) == NULL)
			continue;
		free(file->path);
		file->path = path;
	}
}

static int eiofs_parse_op(const char *name, enum eiofs_op *op_r)
{
	if (strcmp(name, "*") == 0) {
		*op_r = EIOFS_OP_ALL;
		return 0;
	}
	for (unsigned int i = 0; i < EIOFS_OP_COUNT; i++) {
		if (strcmp(name, eiofs_op_names[i]) == 0) {
			*op_r = i;
			return 0;
		}
	}
	return -1;
}

static void eiofs_load_rules(void)
{
	char line[EIOFS_MAX_LINE], op[EIOFS_MAX_LINE], glob[EIOFS_MAX_LINE];
	long long from;
	FILE *f;
	int n;

	rule_count = 0;
	if ((f = fopen(control_path, "r")) == NULL) {
		if (errno != ENOENT)
			fprintf(stderr, "eiofs: open(%s): %m\n", control_path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#');

		if (hash != NULL)
			*hash = '\0';
		from = 0;
		n = sscanf(line, "%1023s %1023s %lld", op, glob, &from);
		if (n <= 0)
			continue;
		if (n < 2 || rule_count == EIOFS_MAX_RULES ||
		    eiofs_parse_op(op, &rules[rule_count].op) < 0) {
			fprintf(stderr, "eiofs: %s: rule ignored: %s",
				control_path, line);
			continue;
		}
		memcpy(rules[rule_count].glob, glob, sizeof(glob));
		rules[rule_count].from = from;
		rule_count++;
	}
	fclose(f);
}

/* re-read CONTROL when it changed (or appeared or went) */
static void eiofs_check_control(void)
{
	struct stat st;

	if (stat(control_path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == control_st.st_ino && st.st_size == control_st.st_size &&
	    st.st_mtim.tv_sec == control_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == control_st.st_mtim.tv_nsec)
		return;
	control_st = st;
	eiofs_load_rules();
}

/* does a rule fail op on path (for a read or write: of size bytes at
   offset)? */
static bool eiofs_fault_range(enum eiofs_op op, const char *path,
			      off_t offset, size_t size)
{
	eiofs_check_control();
	for (unsigned int i = 0; i < rule_count; i++) {
		const struct eiofs_rule *rule = &rules[i];

		if (rule->op != op && rule->op != EIOFS_OP_ALL)
			continue;
		if (rule->from > 0 && offset + (off_t)size <= rule->from)
			continue;
		if (fnmatch(rule->glob, path, 0) != 0)
			continue;
		if (fault_log != NULL) {
			fprintf(fault_log, "EIO %s %s\n", eiofs_op_names[op],
				path);
			fflush(fault_log);
		}
		return true;
	}
	if (trace && fault_log != NULL) {
		fprintf(fault_log, "OK %s %s\n", eiofs_op_names[op], path);
		fflush(fault_log);
	}
	return false;
}

static bool eiofs_fault(enum eiofs_op op, const char *path)
{
	return eiofs_fault_range(op, path, 0, 0);
}

/* path relative to DIR ("." for DIR itself) */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path == '\0' ? "." : path;
}

/* Run the backing call as the process that asked. */
static void eiofs_as_caller(void)
{
	struct fuse_context *ctx = fuse_get_context();

	setfsgid(ctx->gid);
	setfsuid(ctx->uid);
}

static void eiofs_as_self(void)
{
	setfsuid(0);
	setfsgid(0);
}

/* the result of a backing call: 0 or -errno */
static int eiofs_ret(int ret)
{
	int err = errno;

	eiofs_as_self();
	return ret < 0 ? -err : 0;
}

static struct eiofs_file *eiofs_fh(struct fuse_file_info *fi)
{
	return (struct eiofs_file *)(uintptr_t)fi->fh;
}

static void *eiofs_init(struct fuse_conn_info *conn,
			struct fuse_config *cfg)
{
	(void)conn;
	/* no caching of names or attributes: what a test checks is what
	   the backing directory has */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->use_ino = 1;
	/* an open file unlinked or renamed over keeps a hidden name
	   (.fuse_hidden*) until closed, libfuse's default: the kernel asks
	   for its attributes by name (Dovecot's dotlocks fstat() a file
	   whose first name is gone) */
	cfg->hard_remove = 0;
	return NULL;
}

static int eiofs_getattr(const char *path, struct stat *st,
			 struct fuse_file_info *fi)
{
	int ret;

	eiofs_as_caller();
	if (fi != NULL)
		ret = fstat(eiofs_fh(fi)->fd, st);
	else
		ret = fstatat(root_fd, rel(path), st, AT_SYMLINK_NOFOLLOW);
	return eiofs_ret(ret);
}

static int eiofs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int err;

	eiofs_as_caller();
	len = readlinkat(root_fd, rel(path), buf, size - 1);
	err = errno;
	eiofs_as_self();
	if (len < 0)
		return -err;
	buf[len] = '\0';
	return 0;
}

static int eiofs_mkdir(const char *path, mode_t mode)
{
	if (eiofs_fault(EIOFS_OP_MKDIR, rel(path)))
		return -EIO;
	eiofs_as_caller();
	return eiofs_ret(mkdirat(root_fd, rel(path), mode));
}

static int eiofs_unlink(const char *path)
{
	if (eiofs_fault(EIOFS_OP_UNLINK, rel(path)))
		return -EIO;
	eiofs_as_caller();
	return eiofs_ret(unlinkat(root_fd, rel(path), 0));
}

static int eiofs_rmdir(const char *path)
{
	if (eiofs_fault(EIOFS_OP_RMDIR, rel(path)))
		return -EIO;
	eiofs_as_caller();
	return eiofs_ret(unlinkat(root_fd, rel(path), AT_REMOVEDIR));
}

static int eiofs_symlink(const char *target, const char *path)
{
	eiofs_as_caller();
	return eiofs_ret(symlinkat(target, root_fd, rel(path)));
}

static int eiofs_rename(const char *from, const char *to, unsigned int flags)
{
	if (eiofs_fault(EIOFS_OP_RENAME, rel(from)) ||
	    eiofs_fault(EIOFS_OP_RENAME, rel(to)))
		return -EIO;
	eiofs_as_caller();
	if (renameat2(root_fd, rel(from), root_fd, rel(to), flags) < 0)
		return eiofs_ret(-1);
	eiofs_as_self();
	eiofs_files_renamed(rel(from), rel(to));
	return 0;
}

static int eiofs_link(const char *from, const char *to)
{
	if (eiofs_fault(EIOFS_OP_LINK, rel(from)) ||
	    eiofs_fault(EIOFS_OP_LINK, rel(to)))
		return -EIO;
	eiofs_as_caller();
	if (linkat(root_fd, rel(from), root_fd, rel(to), 0) < 0)
		return eiofs_ret(-1);
	eiofs_as_self();
	eiofs_files_renamed(rel(from), rel(to));
	return 0;
}

static int eiofs_chmod(const char *path, mode_t mode,
		       struct fuse_file_info *fi)
{
	int ret;

	if (path != NULL && eiofs_fault(EIOFS_OP_SETATTR, rel(path)))
		return -EIO;
	eiofs_as_caller();
	if (fi != NULL)
		ret = fchmod(eiofs_fh(fi)->fd, mode);
	else
		ret = fchmodat(root_fd, rel(path), mode, 0);
	return eiofs_ret(ret);
}

static int eiofs_chown(const char *path, uid_t uid, gid_t gid,
		       struct fuse_file_info *fi)
{
	int ret;

	if (path != NULL && eiofs_fault(EIOFS_OP_SETATTR, rel(path)))
		return -EIO;
	eiofs_as_caller();
	if (fi != NULL)
		ret = fchown(eiofs_fh(fi)->fd, uid, gid);
	else
		ret = fchownat(root_fd, rel(path), uid, gid,
			       AT_SYMLINK_NOFOLLOW);
	return eiofs_ret(ret);
}

static int eiofs_truncate(const char *path, off_t size,
			  struct fuse_file_info *fi)
{
	int fd, ret, err;

	if (path != NULL && eiofs_fault(EIOFS_OP_TRUNCATE, rel(path)))
		return -EIO;
	eiofs_as_caller();
	if (fi != NULL)
		return eiofs_ret(ftruncate(eiofs_fh(fi)->fd, size));
	if ((fd = openat(root_fd, rel(path), O_WRONLY | O_CLOEXEC)) < 0)
		return eiofs_ret(-1);
	ret = ftruncate(fd, size);
	err = errno;
	close(fd);
	errno = err;
	return eiofs_ret(ret);
}

static int eiofs_utimens(const char *path, const struct timespec tv[2],
			 struct fuse_file_info *fi)
{
	int ret;

	if (path != NULL && eiofs_fault(EIOFS_OP_SETATTR, rel(path)))
		return -EIO;
	eiofs_as_caller();
	if (fi != NULL)
		ret = futimens(eiofs_fh(fi)->fd, tv);
	else
		ret = utimensat(root_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
	return eiofs_ret(ret);
}

static bool eiofs_open_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY ||
		(flags & (O_CREAT | O_TRUNC)) != 0;
}

static int eiofs_open_file(const char *path, struct fuse_file_info *fi,
			   int flags, mode_t mode)
{
	struct eiofs_file *file;
	int fd, err;

	if (eiofs_fault(EIOFS_OP_OPEN, rel(path)) ||
	    (eiofs_open_writes(flags) &&
	     eiofs_fault(EIOFS_OP_OPEN_WRITE, rel(path))))
		return -EIO;
	eiofs_as_caller();
	fd = openat(root_fd, rel(path), flags | O_CLOEXEC, mode);
	err = errno;
	eiofs_as_self();
	if (fd < 0)
		return -err;
	file = calloc(1, sizeof(*file));
	if (file == NULL || (file->path = strdup(rel(path))) == NULL) {
		free(file);
		close(fd);
		return -ENOMEM;
	}
	file->fd = fd;
	file->next = open_files;
	if (open_files != NULL)
		open_files->prev = file;
	open_files = file;
	fi->fh = (uintptr_t)file;
	return 0;
}

static int eiofs_open(const char *path, struct fuse_file_info *fi)
{
	return eiofs_open_file(path, fi, fi->flags, 0);
}

static int eiofs_create(const char *path, mode_t mode,
			struct fuse_file_info *fi)
{
	return eiofs_open_file(path, fi, fi->flags | O_CREAT, mode);
}

static int eiofs_read(const char *path, char *buf, size_t size, off_t offset,
		      struct fuse_file_info *fi)
{
	struct eiofs_file *file = eiofs_fh(fi);
	ssize_t ret;

	(void)path;
	if (eiofs_fault_range(EIOFS_OP_READ, file->path, offset, size))
		return -EIO;
	ret = pread(file->fd, buf, size, offset);
	return ret < 0 ? -errno : (int)ret;
}

static int eiofs_write(const char *path, const char *buf, size_t size,
		       off_t offset, struct fuse_file_info *fi)
{
	struct eiofs_file *file = eiofs_fh(fi);
	ssize_t ret;

	(void)path;
	if (eiofs_fault_range(EIOFS_OP_WRITE, file->path, offset, size))
		return -EIO;
	ret = pwrite(file->fd, buf, size, offset);
	return ret < 0 ? -errno : (int)ret;
}

static int eiofs_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	return fstatvfs(root_fd, st) < 0 ? -errno : 0;
}

static int eiofs_flush(const char *path, struct fuse_file_info *fi)
{
	int fd = dup(eiofs_fh(fi)->fd);

	(void)path;
	/* close() of a duplicate: what close() of the file would report */
	if (fd < 0)
		return -errno;
	return close(fd) < 0 ? -errno : 0;
}

static int eiofs_release(const char *path, struct fuse_file_info *fi)
{
	struct eiofs_file *file = eiofs_fh(fi);

	(void)path;
	if (file->prev != NULL)
		file->prev->next = file->next;
	else
		open_files = file->next;
	if (file->next != NULL)
		file->next->prev = file->prev;
	close(file->fd);
	free(file->path);
	free(file);
	return 0;
}

static int eiofs_fsync(const char *path, int datasync,
		       struct fuse_file_info *fi)
{
	struct eiofs_file *file = eiofs_fh(fi);
	int ret;

	(void)path;
	if (eiofs_fault(EIOFS_OP_FSYNC, file->path))
		return -EIO;
	ret = datasync ? fdatasync(file->fd) : fsync(file->fd);
	return ret < 0 ? -errno : 0;
}

static int eiofs_opendir(const char *path, struct fuse_file_info *fi)
{
	int fd, err;
	DIR *dir;

	eiofs_as_caller();
	fd = openat(root_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = errno;
	eiofs_as_self();
	if (fd < 0)
		return -err;
	if ((dir = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		return -err;
	}
	fi->fh = (uintptr_t)dir;
	return 0;
}

static int eiofs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
			 off_t offset, struct fuse_file_info *fi,
			 enum fuse_readdir_flags flags)
{
	DIR *dir = (DIR *)(uintptr_t)fi->fh;
	struct dirent *de;

	(void)path;
	(void)flags;
	/* offsets are telldir() cookies */
	if (offset != 0)
		seekdir(dir, offset);
	else
		rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		struct stat st;

		memset(&st, 0, sizeof(st));
		st.st_ino = de->d_ino;
		st.st_mode = DTTOIF(de->d_type);
		if (filler(buf, de->d_name, &st, telldir(dir), 0) != 0)
			break;
	}
	return 0;
}

static int eiofs_releasedir(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	closedir((DIR *)(uintptr_t)fi->fh);
	return 0;
}

static int eiofs_fsyncdir(const char *path, int datasync,
			  struct fuse_file_info *fi)
{
	DIR *dir = (DIR *)(uintptr_t)fi->fh;
	int ret;

	if (path != NULL && eiofs_fault(EIOFS_OP_FSYNC, rel(path)))
		return -EIO;
	ret = datasync ? fdatasync(dirfd(dir)) : fsync(dirfd(dir));
	return ret < 0 ? -errno : 0;
}

static int eiofs_access(const char *path, int mask)
{
	eiofs_as_caller();
	return eiofs_ret(faccessat(root_fd, rel(path), mask, AT_EACCESS));
}

static int eiofs_fallocate(const char *path, int mode, off_t offset,
			   off_t length, struct fuse_file_info *fi)
{
	struct eiofs_file *file = eiofs_fh(fi);

	(void)path;
	if (eiofs_fault_range(EIOFS_OP_WRITE, file->path, offset, length))
		return -EIO;
	return fallocate(file->fd, mode, offset, length) < 0 ? -errno : 0;
}

static const struct fuse_operations eiofs_ops = {
	.init = eiofs_init,
	.getattr = eiofs_getattr,
	.readlink = eiofs_readlink,
	.mkdir = eiofs_mkdir,
	.unlink = eiofs_unlink,
	.rmdir = eiofs_rmdir,
	.symlink = eiofs_symlink,
	.rename = eiofs_rename,
	.link = eiofs_link,
	.chmod = eiofs_chmod,
	.chown = eiofs_chown,
	.truncate = eiofs_truncate,
	.utimens = eiofs_utimens,
	.open = eiofs_open,
	.create = eiofs_create,
	.read = eiofs_read,
	.write = eiofs_write,
	.statfs = eiofs_statfs,
	.flush = eiofs_flush,
	.release = eiofs_release,
	.fsync = eiofs_fsync,
	.opendir = eiofs_opendir,
	.readdir = eiofs_readdir,
	.releasedir = eiofs_releasedir,
	.fsyncdir = eiofs_fsyncdir,
	.access = eiofs_access,
	.fallocate = eiofs_fallocate,
};

static void usage(void)
{
	fprintf(stderr, "usage: eiofs -c CONTROL [-l LOG [-t]] DIR\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	const char *log_path = NULL;
	char dir[PATH_MAX];
	int opt;

	while ((opt = getopt(argc, argv, "c:l:t")) != -1) {
		switch (opt) {
		case 'c':
			control_path = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 't':
			trace = true;
			break;
		default:
			usage();
		}
	}
	if (control_path == NULL || optind != argc - 1)
		usage();
	if (realpath(argv[optind], dir) == NULL) {
		fprintf(stderr, "eiofs: %s: %m\n", argv[optind]);
		return 1;
	}
	if (log_path != NULL && (fault_log = fopen(log_path, "a")) == NULL) {
		fprintf(stderr, "eiofs: open(%s): %m\n", log_path);
		return 1;
	}
	/* before the mount hides it */
	if ((root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "eiofs: open(%s): %m\n", dir);
		return 1;
	}
	/* no umask: the callers' modes come already masked */
	umask(0);

	char *fuse_argv[] = {
		argv[0], "-f", "-s", "-o",
		"allow_other,fsname=altpop-eiofs,subtype=eiofs", dir, NULL,
	};
	return fuse_main(6, fuse_argv, &eiofs_ops, NULL);
}
