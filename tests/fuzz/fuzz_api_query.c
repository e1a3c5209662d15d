/*
 * fuzz_api_query.c -- libFuzzer harness for the API's query strings and
 * parameters (src/api/query.c) and its JSON string writer (json.c).
 *
 * The input is a raw query string.  Properties checked on every input:
 * parsing never reads past it (ASan); on success every key is 1..32 bytes
 * of [a-z0-9_-], no key repeats, every value is valid UTF-8 without control
 * bytes; on failure the diagnostic says why; each typed reader either
 * accepts its parameter or writes a 400 whose body is a JSON object of
 * valid UTF-8; and the JSON string of the raw input is valid UTF-8 with no
 * raw control byte (the escaping the error bodies rely on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const sp_buf *b)
{
    if (b->len == 0)
        return;
    if (!sp_api_utf8_is_valid(b->data, b->len) || b->data[0] != '{' || b->data[b->len - 1] != '}')
        abort();
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *qs = (const char *)data;
    sp__api_req r;
    memset(&r, 0, sizeof(r));
    sp_arena_init(&r.arena, 4096, 1u << 20);
    sp_diag d;
    sp_diag_clear(&d);
    sp_err e = sp_api_query_parse(&r.arena, qs, size, &r.q, &d);
    if (e != SP_OK) {
        if (d.code != e || d.msg[0] == '\0')
            abort();
    } else {
        for (size_t i = 0; i < r.q.n; i++) {
            const sp_api_param *p = &r.q.p[i];
            size_t kl = strlen(p->key);
            if (kl == 0 || kl > 32 || !sp_api_utf8_is_valid(p->val, p->val_len))
                abort();
            for (size_t k = 0; k < p->val_len; k++)
                if ((unsigned char)p->val[k] < 0x20)
                    abort();
            for (size_t j = 0; j < i; j++)
                if (strcmp(r.q.p[j].key, p->key) == 0)
                    abort();
        }
        static const char *const keys[] = {"day", "from", "n", "w", "symbol"};
        for (size_t k = 0; k < SP_COUNTOF(keys); k++) {
            sp__api_out o;
            memset(&o, 0, sizeof(o));
            sp_buf_init(&o.body, 1u << 16);
            int64_t v;
            const char *s;
            bool ok = k == 0   ? sp__api_p_day(&r, &o, keys[k], 0, &v)
                      : k == 1 ? sp__api_p_time(&r, &o, keys[k], 0, &v)
                      : k == 2 ? sp__api_p_int(&r, &o, keys[k], -5, 1000, 0, &v)
                      : k == 3 ? sp__api_p_dur(&r, &o, keys[k], 0, &v)
                               : sp__api_p_sym(&r, &o, keys[k], "X", &s);
            if (!ok && (o.status != 400 || o.body.len == 0))
                abort();
            check_body(&o.body);
            sp_buf_fini(&o.body);
        }
    }
    /* the raw bytes as a JSON string: valid UTF-8, no raw control byte */
    sp_buf b;
    sp_buf_init(&b, 1u << 22);
    sp__json j = {&b, SP_OK};
    sp__api_jraw(&j, "{\"x\":");
    sp__api_jstrn(&j, qs, size);
    sp__api_jraw(&j, "}");
    if (j.e == SP_OK)
        check_body(&b);
    sp_buf_fini(&b);
    sp_arena_fini(&r.arena);
    return 0;
}
