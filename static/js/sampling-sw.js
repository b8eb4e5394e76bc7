/* The sampling page's service worker, served by views/sampling.py at /screening/sw.js (scope
   /screening/), which puts `const VERSION = "…";` (a hash of this file) above this line.

   It keeps the last rendered sampling page for each URL (with its station key) and the page's
   static files, so that a reload while the network is down still opens the page; the scans
   themselves live in the page's localStorage and are sent by the page. It answers only for
   sampling pages and for the files a sampling page asked it to keep: every other request under
   /screening/ (other pages, the scan endpoint, searches) goes to the network untouched. */
"use strict";

var CACHE = "shouwang-sampling-" + VERSION;
var PAGE = /^\/screening\/rounds\/\d+\/sample\/$/;
var NETWORK_MS = 4000;   // a network that hangs (one bar of signal) counts as down

self.addEventListener("install", function (event) {
  // Scans (POSTs) go straight to the network without waking this worker: a sleeping worker
  // would add its start-up time to every scan (Chromium's static routing; elsewhere the fetch
  // handler below lets them through untouched).
  if (event.addRoutes) {
    try {
      event.addRoutes([{ condition: { requestMethod: "POST" }, source: "network" }]);
    } catch (e) { /* an older engine: the fetch handler decides */ }
  }
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.map(function (n) {
        if (n.indexOf("shouwang-sampling-") === 0 && n !== CACHE) return caches.delete(n);
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function keepable(resp) {
  // Never keep a sign-in page the request was redirected to, nor an error page.
  return resp && resp.ok && !resp.redirected && resp.type === "basic";
}

// The page asks, once the worker is ready, to keep itself and its files (its first load did not
// pass through the worker).
self.addEventListener("message", function (event) {
  var d = event.data || {};
  if (d.type !== "keep" || !Array.isArray(d.urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(d.urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      if (url.origin !== self.location.origin) return null;
      return fetch(url.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (keepable(r)) return cache.put(url.href, r);
      }).catch(function () { /* offline already: keep what is there */ });
    }));
  }));
});

function timeout(ms) {
  return new Promise(function (resolve, reject) {
    setTimeout(function () { reject(new Error("timeout")); }, ms);
  });
}

// Network first (a fresh page has a fresh station key), the kept copy when the network fails.
function networkFirst(request, key) {
  return caches.open(CACHE).then(function (cache) {
    var net = fetch(request).then(function (resp) {
      if (keepable(resp)) cache.put(key, resp.clone());
      return resp;
    });
    return Promise.race([net, timeout(NETWORK_MS)]).catch(function () {
      return cache.match(key, { ignoreVary: true }).then(function (hit) {
        return hit || net;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(req, url.href));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    // Only the files a sampling page asked to keep: the other pages' files are not ours.
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(url.href, { ignoreVary: true }).then(function (hit) {
        if (!hit) return fetch(req);
        return networkFirst(req, url.href);
      });
    }));
  }
});
