/*
 * tlsmon: the live monitor of a tlsechod stats socket.
 *
 * The parts, each in its own file:
 *   feed.c     the Unix socket: connect, line reader, reconnect backoff
 *   model.c    what the daemon told us: hello, sessions, history, counters,
 *              rates; sorting and filtering of the rows to show
 *   columns.c  which table columns fit a width; cutting strings to a
 *              display width
 *   view.c     drawing with curses (the only file that includes it) and
 *              turning keys into actions
 *   batch.c    --once and --json, and the headless bounded run
 *   main.c     options, signals, the poll loop
 *
 * Data and drawing are apart: the feed decodes into the model, the view
 * draws the model. Nothing here knows the daemon's code, only common/proto.h.
 */
#ifndef MONITOR_TLSMON_H
#define MONITOR_TLSMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/proto.h"

#define MON_HISTORY_MAX		4096	/* closed sessions kept */
#define MON_FILTER_MAX		256
#define MON_RATE_SAMPLES	16
#define FEED_LINE_MAX		(256 * 1024)	/* longer lines are dropped */
#define FEED_BACKOFF_MIN_MS	250
#define FEED_BACKOFF_MAX_MS	5000

/* Table columns, in display order. */
enum col_id {
	COL_ID = 0,
	COL_PEER,
	COL_STATE,
	COL_VERSION,
	COL_CIPHER,
	COL_SUBJECT,
	COL_ISSUER,
	COL_REASON,
	COL_IN,
	COL_OUT,
	COL_AGE,
	COL_IDLE,
	COL_DURATION,
	COL_ENDED,
	COL__COUNT
};

struct col_spec {
	const char	*title;
	int		 width;		/* preferred (and minimum) width */
	int		 max;		/* flexible columns grow up to this */
	int		 right;		/* right-aligned */
};

struct col_layout {
	int		 n;
	int		 total;		/* used width, separators included */
	struct {
		enum col_id	id;
		int		x;
		int		w;
	}		 col[COL__COUNT];
};

/* One open session as the model keeps it. */
struct mon_sess {
	struct proto_session	 s;
	uint64_t		 gen;	/* snapshot generation last seen in */
	size_t			 idx;	/* position in model.sess */
};

struct mon_rate_sample {
	int64_t		 t;	/* monotonic ms of arrival */
	uint64_t	 accepted;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
};

/* Sessions, history and counters for one version, cipher or issuer. */
struct mon_bucket {
	char		 name[PROTO_NAME_MAX];
	uint64_t	 sessions;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
};

struct mon_breakdown {
	struct mon_bucket	*b;
	size_t			 n, cap;
};

struct model {
	struct proto_hello	 hello;
	int			 have_hello;
	struct proto_counters	 counters;	/* merged */
	int			 in_snapshot;
	uint64_t		 gen;

	/* Open sessions: an unordered array plus an id hash. */
	struct mon_sess		**sess;
	size_t			 nsess, sesscap;
	struct mon_sess		**hash;		/* open addressing */
	size_t			 hashcap;	/* power of two */

	/* Recently closed sessions: a ring. */
	struct proto_session	*hist;
	size_t			 histhead, nhist;

	/* Rows to show, rebuilt lazily when dirty. */
	struct mon_sess		**rows;
	size_t			 nrows, rowscap;
	int			 rows_dirty;
	const struct proto_session **hrows;
	size_t			 nhrows;
	int			 hrows_dirty;

	enum col_id		 sort_col;
	int			 sort_rev;
	char			 filter[MON_FILTER_MAX];

	struct mon_rate_sample	 rate[MON_RATE_SAMPLES];
	size_t			 nrate, ratehead;

	int			 changed;	/* something to redraw */
	char			 message[PROTO_TEXT_MAX + 64];	/* last reply */
	int			 message_is_error;
	int			 bye;
};

struct feed {
	const char	*path;
	int		 fd;		/* -1 when down */
	int		 up;		/* hello received */
	char		*buf;
	size_t		 len;
	int		 discarding;	/* inside an over-long line */
	int64_t		 backoff_ms;
	int64_t		 retry_at;	/* monotonic ms */
	int64_t		 down_since;	/* monotonic ms, 0 when connected */
	int		 ever_up;
	uint64_t	 bad_lines;
	uint64_t	 long_lines;
	char		 reason[256];	/* why it is down */
};

typedef void	(*feed_cb)(void *, const struct proto_msg *);

/* columns.c */
const struct col_spec *columns_spec(enum col_id);
extern const enum col_id columns_sessions[];
extern const size_t	 columns_nsessions;
extern const enum col_id columns_history[];
extern const size_t	 columns_nhistory;
void	 columns_fit(const enum col_id *, size_t, int, struct col_layout *);
int	 columns_fit_text(const char *, int, int, char *, size_t);
int	 columns_cut(const char *, int, int, char *, size_t, size_t *);
int	 columns_text_width(const char *, int);

/* model.c */
void	 model_init(struct model *);
void	 model_free(struct model *);
void	 model_reset(struct model *);
void	 model_apply(struct model *, const struct proto_msg *, int64_t);
struct mon_sess *model_find(const struct model *, uint64_t);
const struct proto_session *model_find_closed(const struct model *,
	    uint64_t);
void	 model_set_sort(struct model *, enum col_id, int);
void	 model_set_filter(struct model *, const char *);
size_t	 model_rows(struct model *);
size_t	 model_history_rows(struct model *);
void	 model_rates(const struct model *, int64_t, double *, double *,
	    double *);
void	 model_breakdown(const struct model *, int,
	    struct mon_breakdown *);
void	 model_breakdown_free(struct mon_breakdown *);
void	 model_cell(const struct proto_session *, enum col_id, int64_t,
	    char *, size_t);
const char *model_state_name(enum proto_state);
void	*xreallocarray(void *, size_t, size_t);	/* exit on failure */
void	*xcalloc(size_t, size_t);

/* feed.c */
void	 feed_init(struct feed *, const char *);
void	 feed_free(struct feed *);
int	 feed_connect(struct feed *, char *, size_t);
void	 feed_down(struct feed *, const char *, int64_t);
int	 feed_read(struct feed *, feed_cb, void *);
int	 feed_send_cmd(struct feed *, enum proto_cmd, uint64_t);
const char *feed_default_path(void);

/* batch.c */
int	 batch_run(const char *, int, int64_t);
void	 batch_print_text(struct model *, FILE *);

/* view.c */
enum view_action {
	VIEW_IDLE = 0,	/* no key was waiting */
	VIEW_QUIT,
	VIEW_KILL,	/* kill the session view_kill_id() names */
	VIEW_PAUSE,	/* pause toggled */
	VIEW_REDRAW
};
int	 view_start(void);
void	 view_end(void);
void	 view_draw(struct model *, const struct feed *, int64_t, int);
enum view_action view_key(struct model *);
uint64_t view_kill_id(void);

#endif
