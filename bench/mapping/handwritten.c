/* handwritten.c — the peer of the mapping benchmark: what a careful C programmer writes with cJSON
 * for the same mapping as orders.flow (filter cancelled, template, lower, concatenation, floor of
 * arithmetic, nested if, each over items, a constant). NDJSON on stdin, NDJSON on stdout. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    char buf[512];
    while ((n = getline(&line, &cap, stdin)) > 0) {
        cJSON *r = cJSON_ParseWithLength(line, (size_t)n);
        if (!r) { fprintf(stderr, "bad line\n"); continue; }
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
        if (cJSON_IsString(status) && strcmp(status->valuestring, "cancelled") == 0) { cJSON_Delete(r); continue; }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *email = cJSON_GetObjectItemCaseSensitive(r, "email");
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(r, "total");
        const cJSON *cust = cJSON_GetObjectItemCaseSensitive(r, "customer");
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(cust, "first");
        const cJSON *last = cJSON_GetObjectItemCaseSensitive(cust, "last");
        const cJSON *vip = cJSON_GetObjectItemCaseSensitive(cust, "vip");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(r, "items");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(email) || !cJSON_IsNumber(total) || !cJSON_IsString(first) ||
            !cJSON_IsString(last) || !cJSON_IsBool(vip) || !cJSON_IsArray(items)) { cJSON_Delete(r); continue; }
        cJSON *o = cJSON_CreateObject();
        snprintf(buf, sizeof buf, "order-%.0f", id->valuedouble);
        cJSON_AddStringToObject(o, "ref", buf);
        snprintf(buf, sizeof buf, "%s", email->valuestring);
        for (char *p = buf; *p; p++) *p = (char)tolower((unsigned char)*p);
        cJSON_AddStringToObject(o, "email", buf);
        snprintf(buf, sizeof buf, "%s %s", first->valuestring, last->valuestring);
        cJSON_AddStringToObject(o, "name", buf);
        cJSON_AddNumberToObject(o, "cents", floor(total->valuedouble * 100));
        cJSON_AddStringToObject(o, "tier", total->valuedouble > 1000 ? "gold" : cJSON_IsTrue(vip) ? "silver" : "bronze");
        cJSON *lines = cJSON_AddArrayToObject(o, "lines");
        for (const cJSON *it = items->child; it; it = it->next) {
            const cJSON *sku = cJSON_GetObjectItemCaseSensitive(it, "sku");
            const cJSON *qty = cJSON_GetObjectItemCaseSensitive(it, "qty");
            const cJSON *price = cJSON_GetObjectItemCaseSensitive(it, "price");
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "sku", cJSON_IsString(sku) ? sku->valuestring : "");
            cJSON_AddNumberToObject(l, "amount", (cJSON_IsNumber(qty) ? qty->valuedouble : 0) * (cJSON_IsNumber(price) ? price->valuedouble : 0));
            cJSON_AddItemToArray(lines, l);
        }
        cJSON_AddStringToObject(o, "source", "webshop");
        char *text = cJSON_PrintUnformatted(o);
        fputs(text, stdout);
        fputc('\n', stdout);
        cJSON_free(text);
        cJSON_Delete(o);
        cJSON_Delete(r);
    }
    free(line);
    return 0;
}
