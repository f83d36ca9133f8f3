package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPage: / serves the page (or, without the bundle, how to build it),
// and /app.js the bundle.
func TestPage(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get("/")
	switch {
	case code != 200:
		t.Fatalf("/: %d", code)
	case Built() && !strings.Contains(page, `<script src="/app.js">`):
		t.Fatalf("built page: %s", page)
	case !Built() && !strings.Contains(page, "./scripts/build-web"):
		t.Fatalf("unbuilt page does not say how to build: %s", page)
	}
	if code, js := get("/app.js"); Built() && (code != 200 || !strings.Contains(js, "candlewire")) || !Built() && code != 404 {
		t.Fatalf("/app.js: %d", code)
	}
	if code, _ := get("/nope"); code != 404 {
		t.Fatalf("/nope: %d", code)
	}
}
