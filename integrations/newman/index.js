'use strict';
/*
 * newman-reporter-recap: labels each request of a collection run with the test that made it.
 *
 *   newman run collection.json -r cli,recap --reporter-recap-url http://127.0.0.1:8080
 *
 * Every request sent to recap's listener (the URL given, or RECAP_URL) carries
 *   X-Recap-Test:  <collection> / <folder> / ... / <item>   (" [iteration N]" when the run has several)
 *   X-Recap-Phase: call
 * recap takes both off before forwarding and records them, so `recap verify`, `show --test`, `diff` and
 * `specgen` see each call under its item. Requests to other hosts are left alone. Without a URL every
 * request is labelled. Newman's "beforeRequest" event comes before the request is sent, with the very
 * request object postman-runtime sends (lib/runner/extensions/http-request.command.js), so a header added
 * there goes out with it.
 */
const { URL } = require('url');

function defaultPort(protocol) {
    return protocol === 'https:' ? '443' : '80';
}

/* "host:port" of a URL string, or null. */
function endpoint(text) {
    try {
        const u = new URL(text);
        return `${u.hostname.toLowerCase()}:${u.port || defaultPort(u.protocol)}`;
    } catch (e) {
        return null;
    }
}

/* The item's place in the collection: its parents' names (folders, then the collection) and its own. */
function titlePath(item) {
    const names = [];
    for (let node = item; node; node = typeof node.parent === 'function' ? node.parent() : null) {
        if (node.name) {
            names.unshift(node.name);
        }
    }
    return names;
}

/* Header values are one line of visible text: anything else becomes a space. */
function headerSafe(text) {
    return String(text).replace(/[^\x20-\x7e\u00a0-\uffff]/g, ' ').trim();
}

function RecapReporter(emitter, reporterOptions, collectionRunOptions) {
    const target = reporterOptions.url || process.env.RECAP_URL || null;
    const where = target ? endpoint(target) : null;
    if (target && !where) {
        throw new Error(`newman-reporter-recap: --reporter-recap-url ${target} is not a URL`);
    }
    const local = where && /^(127\.0\.0\.1|localhost):/.test(where) ?
        [where, where.replace(/^[^:]+/, '127.0.0.1'), where.replace(/^[^:]+/, 'localhost')] : [where];
    const iterations = (collectionRunOptions && collectionRunOptions.iterationCount) || 1;
    let labelled = 0;

    emitter.on('beforeRequest', (err, args) => {
        if (err || !args || !args.request || !args.item) {
            return;
        }
        const url = args.request.url && args.request.url.toString ? args.request.url.toString() : '';
        if (where && !local.includes(endpoint(url))) {
            return;
        }
        let name = titlePath(args.item).join(' / ');
        if (iterations > 1 && args.cursor) {
            name += ` [iteration ${args.cursor.iteration + 1}]`;
        }
        args.request.headers.upsert({ key: 'X-Recap-Test', value: headerSafe(name) });
        args.request.headers.upsert({ key: 'X-Recap-Phase', value: 'call' });
        labelled++;
    });

    emitter.on('done', () => {
        if (!reporterOptions.silent) {
            console.log(`recap: ${labelled} request${labelled === 1 ? '' : 's'} labelled with their item` +
                (where ? ` (sent to ${where})` : ''));
        }
    });
}

module.exports = RecapReporter;
