/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "deadline.h"
#include "parse.h"

/* Deadlines handled per wakeup: a crowd falling due at once takes turns with everything else. */
#define EXPIRIES_PER_WAKEUP 64

typedef struct List {
        uint64_t length;
        Deadline *head, *tail;  /* the earliest due, the latest */
} List;

struct Deadlines {
        sd_event *event;
        sd_event_source *timer;
        List lists[DEADLINE_LENGTHS_MAX];
        unsigned n_lists;
        uint64_t accuracy;
};

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

int deadlines_new(sd_event *e, Deadlines **ret) {
        _cleanup_(deadlines_freep) Deadlines *t = NULL;
        int r;

        assert(e);
        assert(ret);

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->event = sd_event_ref(e);
        t->accuracy = USEC_PER_SEC;
        r = sd_event_add_time(e, &t->timer, CLOCK_MONOTONIC, 0, t->accuracy, on_timer, t);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(t->timer, "deadlines");
        *ret = TAKE_PTR(t);
        return 0;
}

Deadlines *deadlines_free(Deadlines *t) {
        if (!t)
                return NULL;
        sd_event_source_disable_unref(t->timer);
        sd_event_unref(t->event);
        free(t);
        return NULL;
}

static Deadline *earliest(Deadlines *t) {
        Deadline *first = NULL;

        for (unsigned i = 0; i < t->n_lists; i++) {
                Deadline *d = t->lists[i].head;

                if (d && (!first || d->due < first->due))
                        first = d;
        }
        return first;
}

static void arm(Deadlines *t) {
        Deadline *first = earliest(t);

        if (!first) {
                (void) sd_event_source_set_enabled(t->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(t->timer, first->due);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
}

/* Takes d off its list: whether it was the head, so that the timer may need to move. */
static bool unlink_deadline(Deadlines *t, Deadline *d) {
        List *l = &t->lists[d->list];
        bool head = l->head == d;

        if (d->due == 0)
                return false;
        if (d->prev)
                d->prev->next = d->next;
        else
                l->head = d->next;
        if (d->next)
                d->next->prev = d->prev;
        else
                l->tail = d->prev;
        d->next = d->prev = NULL;
        d->due = 0;
        return head;
}

static List *list_for(Deadlines *t, uint64_t length) {
        List *l;

        for (unsigned i = 0; i < t->n_lists; i++)
                if (t->lists[i].length == length)
                        return &t->lists[i];

        /* A caller's lengths are constants and options, a handful: more is a bug, not a condition. */
        assert(t->n_lists < DEADLINE_LENGTHS_MAX);
        l = &t->lists[t->n_lists++];
        l->length = length;
        /* Coalesced wakeups: a tenth of the shortest length late at most, and a second. */
        if (MAX(length / 10, UINT64_C(1)) < t->accuracy) {
                t->accuracy = MAX(length / 10, UINT64_C(1));
                (void) sd_event_source_set_time_accuracy(t->timer, t->accuracy);
        }
        return l;
}

void deadline_set(Deadlines *t, Deadline *d, uint64_t length) {
        List *l;
        uint64_t now;
        bool moved;

        assert(t);
        assert(d);
        assert(d->handler);
        assert(length > 0);

        moved = unlink_deadline(t, d);
        l = list_for(t, length);
        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        d->due = now + length;
        d->list = (uint8_t) (l - t->lists);
        d->prev = l->tail;
        if (l->tail)
                l->tail->next = d;
        else
                l->head = d;
        l->tail = d;
        if (moved || l->head == d)
                arm(t);
}

void deadline_cancel(Deadlines *t, Deadline *d) {
        assert(t);
        assert(d);

        if (unlink_deadline(t, d))
                arm(t);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Deadlines *t = userdata;
        uint64_t now;

        (void) sd_event_now(t->event, CLOCK_MONOTONIC, &now);
        for (unsigned i = 0; i < EXPIRIES_PER_WAKEUP; i++) {
                Deadline *d = earliest(t);

                if (!d || d->due > now) {
                        arm(t);
                        return 0;
                }
                (void) unlink_deadline(t, d);
                d->handler(d);
        }
        /* More are due than a wakeup's share: the rest at once, after the other sources had their turn. */
        (void) sd_event_source_set_time(t->timer, 1);
        (void) sd_event_source_set_enabled(t->timer, SD_EVENT_ONESHOT);
        return 0;
}
