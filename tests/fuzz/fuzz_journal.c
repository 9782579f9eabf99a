/* fuzz_journal — journal recovery of whatever a crash, a full disk or a
 * hostile local user left in the directory.
 * Input: a flags byte (epoch file valid/absent/garbage, segment size), then
 * up to 3 segments, each a name byte (its first seq) and a length-prefixed
 * body. The files are written to a fresh directory, opened and recovered.
 * Invariants: open succeeds or fails with a message; recovered lines hold no
 * '\n', their seqs strictly increase, a recovered line that is JSON carries
 * that seq, *last_seq is at least the highest (and the newest segment's name
 * counts as used too); and after a torn tail is repaired an appended
 * message is what a reopen finds last, delivered last (nothing glued to
 * garbage or to an older segment's tail, no segment overwritten). */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "journal.h"

#define EPOCH "0123456789abcdef"

static char dir[256];

static void rm_contents(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

static void cleanup(void)
{
	rm_contents();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(dir, sizeof dir, "%s/wsb-fuzz-journal.XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	atexit(cleanup);
	return 0;
}

static void put_file(const char *name, const void *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

struct seen {
	uint64_t last;
	size_t lines;
};

static int on_line(void *ud, const char *line, size_t len, uint64_t seq)
{
	struct seen *s = ud;
	char *out = malloc(len ? len : 1);
	struct wsb_env env;

	FUZZ_CHECK(!memchr(line, '\n', len));
	FUZZ_CHECK(s->lines == 0 || seq > s->last);
	if (wsb_env_parse(line, len, out, NULL, &env, NULL) >= 0)
		FUZZ_CHECK(env.has_seq && env.seq == seq);
	free(out);
	s->last = seq;
	s->lines++;
	return 0;
}

static struct wsb_journal *open_j(const struct wsb_journal_cfg *cfg, struct seen *s, uint64_t *last)
{
	char epoch[WSB_EPOCH_LEN + 1];
	struct wsb_journal *j;
	struct wsb_err err;
	size_t skipped = 0;

	memset(s, 0, sizeof *s);
	memset(&err, 0, sizeof err);
	j = wsb_journal_open(cfg, EPOCH, epoch, last, &skipped, on_line, s, &err);
	if (!j)
		FUZZ_CHECK(err.code && err.msg[0]);
	else
		FUZZ_CHECK(*last >= s->last && strlen(epoch) == WSB_EPOCH_LEN);
	return j;
}

static void write_segments(struct fuzz_in *in, unsigned flags)
{
	unsigned nseg = 1 + fuzz_u8(in) % 3, i;
	char name[32];

	if ((flags & 3) == 1)
		put_file("epoch", EPOCH "\n", WSB_EPOCH_LEN + 1);
	for (i = 0; i < nseg; i++) {
		unsigned first = fuzz_u8(in);
		size_t len = fuzz_u16(in);

		if (len > in->n)
			len = in->n;
		snprintf(name, sizeof name, "%020u.ndjson", first);
		put_file(name, in->p, len);
		in->p += len;
		in->n -= len;
	}
	if ((flags & 3) == 2)	/* garbage epoch: the rest of the input */
		put_file("epoch", in->p, in->n < 40 ? in->n : 40);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned flags = fuzz_u8(&in);
	struct wsb_journal_cfg cfg = { .dir = dir, .fsync = WSB_FSYNC_NEVER,
				       .segment_bytes = (flags & 4) ? 64 : 0 };
	struct wsb_journal *j;
	struct wsb_err err;
	struct seen s;
	uint64_t last = 0, last2 = 0;
	char msg[64];
	int n;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	rm_contents();
	write_segments(&in, flags);
	j = open_j(&cfg, &s, &last);
	if (!j)
		return 0;
	if (last == UINT64_MAX) {	/* the end of the seq space: nothing to append */
		wsb_journal_close(j);
		return 0;
	}
	n = snprintf(msg, sizeof msg, "{\"type\":\"t\",\"seq\":%" PRIu64 "}", last + 1);
	FUZZ_CHECK(wsb_journal_append(j, msg, (size_t)n, last + 1, &err) == 0);
	FUZZ_CHECK(wsb_journal_commit(j, 1, &err) == 0);
	wsb_journal_close(j);
	j = open_j(&cfg, &s, &last2);
	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(last2 == last + 1 && s.lines && s.last == last + 1);
	wsb_journal_close(j);
	return 0;
}
