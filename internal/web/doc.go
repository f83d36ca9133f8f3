// Package web serves the live chart page at / from files embedded in the
// binary: static/index.html and the bundle that `npm run build` in web/
// writes to dist/ (lightweight-charts and the page's code). When the bundle
// was not built, / serves a page that says how to build it, and go build
// still succeeds.
package web
