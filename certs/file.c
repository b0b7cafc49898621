/*
 * Files in and out. Output files are created with O_EXCL and their final
 * mode from the start (a key is never readable by others, not even for a
 * moment); --force unlinks the old file first rather than writing through
 * it. A command that fails unlinks what it created, so it never leaves
 * half a certificate and key pair behind.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "certs/tlscert.h"

/*
 * Reads a whole file of at most max bytes into a new buffer with a NUL
 * after it. The caller frees it with file_free, which wipes it.
 */
int
file_read(const char *path, size_t max, unsigned char **buf, size_t *len,
    char *err, size_t errlen)
{
	unsigned char	*b = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((b = malloc(max + 1)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		r = read(fd, b + n, max + 1 - n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes, not "
			    "a certificate or key file", path, max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rv = 0;
out:
	file_free(b, max + 1);
	close(fd);
	return rv;
}

/* Wipes and frees what file_read returned; accepts NULL. */
void
file_free(unsigned char *buf, size_t len)
{
	if (buf == NULL)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

void
file_init(struct file_out *f, const char *path)
{
	f->path = path;
	f->fd = -1;
	f->created = 0;
}

/*
 * Creates f->path with the given mode, refusing an existing file unless
 * force is set, in which case the old one is unlinked first.
 */
int
file_create(struct file_out *f, mode_t mode, int force, char *err,
    size_t errlen)
{
	if (force && unlink(f->path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot replace it: %s", f->path,
		    strerror(errno));
		return -1;
	}
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (f->fd == -1) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s: %s (use --force to replace "
			    "it)", f->path, strerror(errno));
		else
			snprintf(err, errlen, "%s: %s", f->path,
			    strerror(errno));
		return -1;
	}
	f->created = 1;
	return 0;
}

/*
 * Says whether b is a's file under another spelling ("x" and "./x"), once
 * a is created: either creating b found a there (EEXIST) or, with --force,
 * replaced it, so that a's path no longer names a's file.
 */
int
file_same(const struct file_out *a, const struct file_out *b)
{
	struct stat	sa, sp;

	if (strcmp(a->path, b->path) == 0)
		return 1;
	if (a->fd == -1 || fstat(a->fd, &sa) == -1)
		return 0;
	if (stat(a->path, &sp) == -1 || sp.st_dev != sa.st_dev ||
	    sp.st_ino != sa.st_ino)
		return 1;
	return stat(b->path, &sp) == 0 && sp.st_dev == sa.st_dev &&
	    sp.st_ino == sa.st_ino;
}

/* Writes all of buf, across partial writes. */
int
file_write(struct file_out *f, const void *buf, size_t len, char *err,
    size_t errlen)
{
	const unsigned char	*p = buf;
	ssize_t			 w;

	while (len > 0) {
		w = write(f->fd, p, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", f->path,
			    strerror(errno));
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Flushes the file to disk and closes it; it stays unless aborted. */
int
file_finish(struct file_out *f, char *err, size_t errlen)
{
	int	rv = 0;

	if (fsync(f->fd) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		rv = -1;
	}
	if (close(f->fd) == -1 && rv == 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		rv = -1;
	}
	f->fd = -1;
	return rv;
}

/* Closes the file if open and unlinks it if this run created it. */
void
file_abort(struct file_out *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->created)
		unlink(f->path);
	f->fd = -1;
	f->created = 0;
}
