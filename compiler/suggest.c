/* suggest.c — Damerau-Levenshtein distance (optimal string alignment) for did-you-mean hints. */
#include "suggest.h"
#include <string.h>

#define MAXLEN 64

static int dist(const char *a, const char *b, int limit) {
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > MAXLEN || m > MAXLEN) return limit + 1;
    if (n - m > limit || m - n > limit) return limit + 1;
    int d[MAXLEN + 1][MAXLEN + 1];
    for (int i = 0; i <= n; i++) d[i][0] = i;
    for (int j = 0; j <= m; j++) d[0][j] = j;
    for (int i = 1; i <= n; i++) {
        for (int j = 1; j <= m; j++) {
            int ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca += 32;
            if (cb >= 'A' && cb <= 'Z') cb += 32;
            int cost = ca != cb;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m];
}

void sug_init(Suggest *s, const char *name) {
    s->name = name;
    s->best = NULL;
    int len = (int)strlen(name);
    s->best_dist = (len <= 3 ? 1 : len <= 6 ? 2 : 3) + 1;   /* accept distances below this */
}

void sug_offer(Suggest *s, const char *cand) {
    if (!cand || strcmp(cand, s->name) == 0) return;
    int d = dist(s->name, cand, s->best_dist - 1);
    if (d < s->best_dist) { s->best_dist = d; s->best = cand; }
}

const char *sug_best(const Suggest *s) { return s->best; }
