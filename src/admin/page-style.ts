/**
 * The status page's one style sheet, inline and allowed by its hash in the
 * page's Content-Security-Policy (see page.ts). Light and dark schemes;
 * below 640 px the tables scroll sideways inside their own boxes so the
 * page itself never does.
 */
export const STYLE = `
:root{color-scheme:light dark;--fg:#1d232a;--bg:#fff;--panel:#f7f9fb;--dim:#5d6873;--line:#e3e7eb;--link:#0b57d0;--in:#1a7f37;--out:#0b57d0;--bad:#b3261e;--ok:#1a7f37;--hover:#f0f4f8}
@media (prefers-color-scheme:dark){:root{--fg:#e4e8ec;--bg:#14181c;--panel:#1a1f24;--dim:#9aa5b0;--line:#2a3138;--link:#8ab4f8;--in:#56d364;--out:#8ab4f8;--bad:#f2b8b5;--ok:#56d364;--hover:#1f252b}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0 auto;max-width:90rem;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}
header.top{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.25rem 1rem;margin-bottom:.75rem}
h1{font-size:1.3rem;font-weight:650;margin:0}
h2{font-size:1.05rem;font-weight:600;margin:0 0 .5rem}
.count{color:var(--dim);font-weight:400}
.state{margin:0;font-size:.85rem;color:var(--dim)}
.conn{display:inline-block;padding:.05rem .5rem;border-radius:999px;border:1px solid var(--line);font-weight:600}
.conn::before{content:"\\25CF  ";font-size:.75em;vertical-align:.1em}
.conn.live{color:var(--ok)}
.conn.polling{color:var(--dim)}
.conn.offline{color:var(--bad)}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:1rem}
section{min-width:0;padding:.75rem 1rem;border:1px solid var(--line);border-radius:8px;background:var(--panel)}
@media (min-width:1000px){main{grid-template-columns:minmax(0,3fr) minmax(0,2fr)}#sessions-section,#transfers-section{grid-column:1/-1}}
.scroll{position:relative;overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle;white-space:nowrap}
th{font-size:.8rem;font-weight:600;color:var(--dim)}
tbody tr:hover{background:var(--hover)}
td.cwd,td.path,td.file{white-space:normal;overflow-wrap:anywhere;min-width:8rem;max-width:22rem}
td.id,td.bytes,td.seconds,td.rate,td.idle,th.num{text-align:right}
td.progress{min-width:11rem}
td.progress progress{display:block;width:100%;height:.7rem;margin-bottom:.15rem;accent-color:var(--out)}
td.progress .bytes{font-size:.8rem;color:var(--dim)}
td.user.anon{color:var(--dim);font-style:italic}
.badge{display:inline-block;margin-left:.3rem;padding:0 .35rem;border-radius:4px;font-size:.72rem;font-weight:600;border:1px solid currentColor}
.badge.secure{color:var(--ok)}
.badge.plain{color:var(--dim)}
.dir-upload{color:var(--in)}
.dir-download{color:var(--out)}
.result-ok{color:var(--ok)}
.result-failed{color:var(--bad);font-weight:600}
button{font:inherit;font-size:.85rem;padding:.2rem .65rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);cursor:pointer}
button:hover,button:focus-visible{border-color:var(--link);color:var(--link)}
button:disabled{opacity:.6;cursor:progress}
button.danger:hover,button.danger:focus-visible{border-color:var(--bad);color:var(--bad)}
.empty{margin:.5rem 0 0;color:var(--dim);font-size:.9rem}
.msg{margin:.5rem 0 0;font-size:.9rem;min-height:1.2em}
.msg:empty{display:none}
.msg.ok{color:var(--ok)}
.msg.bad{color:var(--bad)}
.ban-form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.75rem}
.ban-form label{font-size:.85rem;color:var(--dim)}
.ban-form input{flex:1 1 12rem;min-width:0;font:inherit;padding:.25rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.legend{margin:0 0 .25rem;font-size:.85rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.key::before{content:"";display:inline-block;width:.9rem;height:.2rem;margin-right:.35rem;vertical-align:.2rem;border-radius:1px}
.key.in::before{background:var(--in)}
.key.out::before{background:var(--out)}
.key .num{margin-left:.35rem;font-weight:600;font-variant-numeric:tabular-nums}
.chart{width:100%;min-height:12rem}
.chart svg{display:block;width:100%;height:auto;overflow:visible}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{stroke:var(--dim);stroke-width:1}
.chart text{fill:var(--dim);font:11px system-ui,sans-serif}
.chart .line{fill:none;stroke-width:2;stroke-linejoin:round}
.chart .line.in{stroke:var(--in)}
.chart .line.out{stroke:var(--out)}
.chart .area{stroke:none;opacity:.12}
.chart .area.in{fill:var(--in)}
.chart .area.out{fill:var(--out)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:640px){
body{padding:.6rem;font-size:14px}
section{padding:.6rem}
th,td{padding:.3rem .4rem}
.ban-form label{flex-basis:100%}
#sessions thead{display:none}
#sessions,#sessions tbody{display:block}
#sessions tr{display:grid;grid-template-columns:2rem minmax(0,1fr) auto;grid-template-areas:"id user actions" "id address protocol" "id cwd idle" "id file rate" "id progress progress";gap:.15rem .5rem;padding:.5rem 0;border-bottom:1px solid var(--line)}
#sessions td{border:0;padding:0;white-space:normal;min-width:0;max-width:none;text-align:left}
#sessions td.id{grid-area:id;color:var(--dim)}
#sessions td.user{grid-area:user;font-weight:600}
#sessions td.address{grid-area:address}
#sessions td.protocol{grid-area:protocol;text-align:right}
#sessions td.cwd{grid-area:cwd}
#sessions td.idle{grid-area:idle;text-align:right;color:var(--dim)}
#sessions td.idle::before{content:"idle "}
#sessions td.file{grid-area:file}
#sessions td.rate{grid-area:rate;text-align:right}
#sessions td.progress{grid-area:progress;min-width:0}
#sessions td.progress:empty,#sessions td.rate:empty{display:none}
#sessions td.actions{grid-area:actions;text-align:right}
}
`;
