// Package app routes requests between a siokit engine, static files and an
// optional other application, as python-socketio's WSGIApp and ASGIApp do.
//
// [New] wraps an engine (an Engine.IO server, a Socket.IO server, anything
// that implements [engineio.Handler]) and returns an [App], itself an
// [engineio.Handler], so any siokit adapter mounts it like the engine alone.
//
// # Routing
//
// [App.ServeRequest] tries, in order:
//
//  1. the engine, for every path its Match accepts (e.g. "/socket.io/...");
//  2. a static-file rule that maps the path to a regular file that exists
//     (GET and HEAD only);
//  3. [Options.Other], the wrapped application, if set;
//  4. otherwise status 404 with the text "Not Found".
//
// [App.Match] accepts the paths of steps 1 and 2, so an adapter's middleware
// forwards everything else (missing files included) to the framework's own
// routes. It cannot see the method: a POST to a static file's URL is matched,
// then handed to Other or answered 404, so keep static URLs clear of the
// framework's non-GET routes when using middleware.
//
// # Static files
//
// Rules are plain values: [File] maps one URL to one file, [FileWithType]
// does so with an explicit content type, [Dir] maps a URL prefix to a
// directory (nested paths included), and [Index] names the file served for a
// URL that ends in "/" (default "index.html"). [StaticFromMap] reads the map
// python-socketio's static_files argument takes.
//
//	a := app.New(server, &app.Options{Static: []app.StaticRule{
//		app.File("/", "static/index.html"),
//		app.Dir("/static", "./public"),
//	}})
//
// The content type comes from the file's extension (.html .css .js .json
// .jpg .png .gif .txt; anything else is application/octet-stream) unless the
// rule names one.
//
// # Security
//
// A request never reads outside a rule's file or directory. The path is
// unescaped once and refused when it holds a NUL byte, a backslash, or an
// empty, "." or ".." segment; the file is then opened through [os.Root], which
// also refuses symbolic links that leave the directory. Only regular files
// are served: directories, devices and pipes are not. A refused path is
// treated as a missing file (Other, else 404).
package app
