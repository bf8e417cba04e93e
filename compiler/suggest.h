/* suggest.h — "did you mean": the closest candidate name by edit distance. */
#ifndef FLOWC_SUGGEST_H
#define FLOWC_SUGGEST_H

typedef struct Suggest { const char *name; const char *best; int best_dist; } Suggest;

void sug_init(Suggest *s, const char *name);
void sug_offer(Suggest *s, const char *candidate);
/* The best candidate close enough to be a likely typo, or NULL. */
const char *sug_best(const Suggest *s);

#endif
