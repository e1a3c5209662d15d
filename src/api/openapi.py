#!/usr/bin/env python3
# openapi.py -- writes src/api/openapi.c, the OpenAPI 3 document of the API
# as a C string (served at /api/v1/openapi.json, checked by the tests).
# Edit the document here when a route changes, then run
#   python3 src/api/openapi.py && clang-format -i src/api/openapi.c
import json
S=lambda t,**k: dict(type=t,**k)
num=S("number"); integer=S("integer"); string=S("string"); boolean=S("boolean")
nnum={"type":"number","nullable":True}
nstr={"type":"string","nullable":True}
def obj(props, req=None): 
    return {"type":"object","required":req if req is not None else list(props.keys()),"properties":props}
def arr(items): return {"type":"array","items":items}
dec={"type":"string","pattern":"^-?[0-9]+(\\.[0-9]+)?$"}
pair=arr({"type":"number"})
err={"$ref":"#/components/schemas/Error"}
def q(name, desc, schema=None, required=False):
    return {"name":name,"in":"query","required":required,"description":desc,"schema":schema or {"type":"string"}}
win=[q("from","window start, UTC date or time (YYYY-MM-DD[THH:MM:SS][Z])"),q("to","window end, exclusive")]
def resp(schema, extra=(400,404,405,503)):
    r={"200":{"description":"OK","content":{"application/json":{"schema":schema}}}}
    for c in extra: r[str(c)]={"description":"error","content":{"application/json":{"schema":err}}}
    return r
def get(summary, params, schema, extra=(400,404,405,503)):
    return {"get":{"summary":summary,"parameters":params,"responses":resp(schema,extra)}}
report=obj({"day":string,"events_read":integer,
  "figures":arr(obj({"key":string,"label":string,"article":nstr,"data":string,"value":nnum,"unit":string,"source":string,"formula":string,"differs":nstr})),
  "coins":arr(obj({"symbol":string,"day_change":nnum,"change_24h":nnum,"low":nstr})),
  "change_24h_at":string,
  "etf_months_musd":arr(obj({"month":string,"days":integer,"net":dec,"inflow":dec,"outflow":dec,"largest_outflow":dec})),
  "funding":obj({"settlements":arr(obj({"time":string,"rate":dec})),"mean":nnum,"annualised":nnum}),
  "correlation":obj({"window":integer,"returns":string,"series":arr(obj({"symbol":string,"r":nnum,"n":integer}))}),
  "fear_greed":obj({"published":nnum,"ours":nnum},["published","ours"]),
  "liquidations":obj({"from":string,"to":string,"count":integer,"notional":dec,"long":dec,"short":dec,"largest":dec,
      "traders":obj({"counted":integer,"observed":integer,"estimate":num,"stderr":num,"saturated_minutes":integer}),
      "groups":arr(obj({"venue":string,"symbol":string,"side":{"type":"string","enum":["long","short"]},"count":integer,"notional":dec,"largest":dec}))})})
prices=obj({"symbol":string,"venue":string,"interval":string,"columns":arr(string),"bars":arr(pair)})
liqs=obj({"from":string,"to":string,"count":integer,"notional":dec,"long":dec,"short":dec,"largest":dec,
  "traders":obj({"counted":integer,"observed":integer,"estimate":num,"stderr":num}),
  "groups":arr(obj({"venue":string,"symbol":string,"side":string,"count":integer,"notional":dec})),"groups_truncated":boolean,
  "bucket_s":integer,"series":arr(pair)})
heat=obj({"symbol":string,"venue":string,"interval":string,"steps":integer,"bands":integer,"bars_from_oi":integer,"proxy":boolean,
  "band_lo":num,"band_width":num,"ts":arr(integer),"close":arr(num),"hit":arr(num),"longs":arr(arr(num)),"shorts":arr(arr(num))})
corr=obj({"a":string,"b":string,"window":integer,"returns":string,"r":num,"n":integer,"rolling":arr(pair)})
fund=obj({"symbol":string,"venue":string,"daily":arr(obj({"day":string,"ms":integer,"settles":integer,"mean":num,"annualised":num,"sum":dec})),
  "settlements":arr(pair),"open_interest":arr(pair)})
etf=obj({"fund":string,"unit":string,"months":arr(obj({"month":string,"days":integer,"net":dec,"inflow":dec,"outflow":dec,"largest_outflow":dec})),"daily":arr(pair)})
fg=obj({"last_day":string,"published":num,"label":string,"ours":nnum,"series_published":arr(pair),"series_ours":arr(pair)})
liq=obj({"venue":string,"symbol":string,"mode":string,"side":string,"settle":string,"liq_price":nstr,"bankruptcy_price":nstr,
  "mm_entry":dec,"mm_liq":dec,"tier":integer,"tier_table":string,"mmr":dec,"maint_amount":dec,"resolves":integer},
  ["venue","symbol","mode","side","settle","liq_price","bankruptcy_price","mm_entry","mm_liq","tier","tier_table","mmr","maint_amount","resolves"])
liq["properties"].update({"liq_price_exact":string,"liq_move_pct":dec,"bk_move_pct":dec,"leverage":integer,"naive_move_pct":dec,"naive_price":dec})
wave=obj({"n":integer,"notional":num,"px_trigger":num,"px_after":num})
sim=obj({"positions":integer,"start_px":num,"oi_long":num,"oi_short":num,
  "scenarios":arr(obj({"shock_bp":integer,"move_exo_bp":integer,"move_total_bp":integer,"amplification":num,"endogenous_bp":integer,
     "liquidated":integer,"liquidated_without":integer,"notional":num,"shock_px":num,"final_px":num,"extreme_px":num,"waves_total":integer,"truncated":boolean,"waves":arr(wave)})),
  "queued_ms":integer,"elapsed_ms":integer})
bars_p=[q("symbol","symbol (default BTCUSDT)"),q("venue","binance_spot (default)"),q("interval","kline interval (default 1d)")]
extremes=obj({"metric":string,"symbol":string,"venue":string,"interval":string,"bars":integer,"high":dec,"high_time":string,"low":dec,"low_time":string})
drawdown=obj({"metric":string,"symbol":string,"venue":string,"interval":string,"drawdown":num,"peak":dec,"peak_time":string,"trough":dec,"trough_time":string,"series":arr(pair)})
change=obj({"metric":string,"symbol":string,"venue":string,"interval":string,"at":string,"window_s":integer,"change":num})
vol=obj({"metric":string,"symbol":string,"venue":string,"interval":string,"returns":integer,"stdev":num,"annualised":num,"periods_per_year":num})
health=obj({"status":{"type":"string","enum":["ok","degraded"]},"store":string,"dashboard":boolean,"calculator":boolean,"simulator":boolean,"version":string})
sym=q("symbol","symbol as stored (BTCUSDT, ^NDX, ...)")
doc={"openapi":"3.0.3",
 "info":{"title":"stampede API","version":"1","description":"Crash-day analytics, the margin calculator and the cascade simulator over HTTP (docs/api.md). Errors are {error, field, detail}. Prices and money are exact decimals."},
 "servers":[{"url":"/"}],
 "paths":{
  "/healthz":get("liveness and what is loaded",[],health,(405,503)),
  "/api/v1/openapi.json":get("this document",[],{"type":"object","required":["openapi","paths"],"properties":{"openapi":string,"paths":{"type":"object"}}},(405,)),
  "/api/v1/report":get("the crash-day report (docs/metrics.md §9)",[q("day","UTC day YYYY-MM-DD (default 2026-02-06)"),q("window","liquidation window: 1h, 4h, 24h..."),q("from","liquidation window start"),q("at","end of the 24h moves"),q("corr_window","returns in the correlation window (3..3650)",integer),q("corr_ret","log, simple or level")],report),
  "/api/v1/prices":get("OHLCV bars [open_ms, open, high, low, close, volume]",[sym,q("venue","binance (default), binance_spot, ..."),q("interval","1m (default), 1h, 4h, 1d")]+win,prices),
  "/api/v1/liquidations":get("liquidations by venue, symbol and side, with a time series",[sym,q("venue","venue"),q("bucket","series bucket, e.g. 1h")]+win,liqs),
  "/api/v1/heatmap":get("liquidation heatmap model (docs/metrics.md §8)",[sym,q("venue","binance_spot (default)"),q("interval","4h (default)"),q("bands","price bands 2..200",integer),q("proxy","volume share x 1e4 opened per bar without open interest (default 500)",integer)]+win,heat),
  "/api/v1/correlation":get("rolling correlation of daily returns (docs/metrics.md §3)",[sym,q("venue","venue of the symbol's daily bars"),q("against","the other series (default ^NDX)"),q("window","returns per window",integer),q("ret","log, simple or level")]+win,corr),
  "/api/v1/funding":get("funding per day, settlements and open interest (docs/metrics.md §4)",[sym,q("venue","binance (default)")]+win,fund),
  "/api/v1/etf-flows":get("US spot BTC ETF flows by month and day, US$ m (docs/metrics.md §5)",[q("fund","fund ticker or TOTAL")]+win,etf),
  "/api/v1/fear-greed":get("Fear & Greed: published and ours (docs/metrics.md §7)",win,fg),
  "/api/v1/extremes":get("highest high and lowest low of the bars (docs/metrics.md §2.1)",bars_p+win,extremes),
  "/api/v1/drawdown":get("deepest drawdown from the running high, with its series (§2.2)",bars_p+win,drawdown),
  "/api/v1/change":get("close-to-close change over a window ending at `at` (§2.3)",[q("symbol","symbol"),q("venue","binance_spot (default)"),q("interval","4h (default)"),q("at","end of the window (default 2026-02-06T08:00:00Z)"),q("window","duration (default 24h)")],change),
  "/api/v1/volatility":get("realised volatility of log returns, annualised (§2.4)",bars_p+win,vol),
  "/api/v1/liq":get("liquidation and bankruptcy price as the venue computes them (same as stampede liq)",
      [q("venue","binance, bybit, okx, bitmex",required=True),q("symbol","instrument",required=True),q("side","long or short",required=True),q("entry","entry price",required=True),q("qty","size",required=True),q("margin","margin",required=True),
       q("mode","isolated (default), cross, hedge"),q("mmr","explicit maintenance margin rate"),q("maint_amount","maintenance amount with mmr"),q("fee_rate","closing fee rate"),q("other_mm","cross: other positions' MM"),q("other_upnl","cross: other uPnL"),q("hedge_qty","hedge leg size"),q("hedge_entry","hedge leg entry"),q("leverage","leverage for the naive 1/L comparison",integer),q("tiers","exact tier table date"),q("date","position date")],liq),
  "/api/v1/simulate":{"post":{"summary":"one bounded cascade simulation (queue: 429 when full)",
      "requestBody":{"required":True,"content":{"application/json":{"schema":{"type":"object","properties":{
          "positions":{"type":"integer","minimum":1,"maximum":200000},"oi_musd":integer,"long_pct":integer,"depth_musd":integer,"thin_pct":integer,"seed":integer,
          "lev_mix":{"type":"string","enum":["default","low","high"]},"shocks_pct":{"type":"array","items":num,"minItems":1,"maxItems":16}}}}}},
      "responses":resp(sim,(400,405,413,429,503))}},
 },
 "components":{"schemas":{"Error":obj({"error":string,"field":nstr,"detail":string})}}}
txt=json.dumps(doc,separators=(",",":"),ensure_ascii=True)
lines=[]
chunk=100
for i in range(0,len(txt),chunk):
    lines.append('    "'+txt[i:i+chunk].replace('\\','\\\\').replace('"','\\"')+'"')
src='''/*
 * openapi.c -- the OpenAPI 3 description of the API, served at
 * /api/v1/openapi.json and used by the tests to validate every answer
 * (tests/browser/openapi_check.mjs).  Generated by src/api/openapi.py:
 * edit the document there.  Keep it in step with the routes
 * (src/api/routes_*.c) and docs/api.md: a route that answers a field the
 * schema does not require is fine, a required field missing fails the
 * API test.
 */
#include "api/api_int.h"

const char sp__api_openapi_json[] =
'''+"\n".join(lines)+''';

/* GET /api/v1/openapi.json */
void sp__api_route_openapi(sp__api_req *r, sp__api_out *o)
{
    static const char *const none[] = {NULL};
    if (!sp__api_p_only(r, o, none))
        return;
    if (sp_buf_append(&o->body, sp__api_openapi_json, sizeof(sp__api_openapi_json) - 1) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    o->status = 200;
    o->cacheable = true;
}
'''
import os
open(os.path.join(os.path.dirname(os.path.abspath(__file__)),'openapi.c'),'w').write(src)
