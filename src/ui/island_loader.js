// Brings a page to life (issue #13). Written by the shell (`crate::ui::islands::BundleScripts`)
// in place of Leptos's hydration scripts, for three reasons:
// - it runs as a classic script in the head, as soon as the parser reaches it, so it imports the
//   JS glue and compiles the WebAssembly module while the module downloads and the page is still
//   being parsed; module scripts wait for the end of parsing (Leptos's are deferred, and an
//   `async` one ran no sooner in Chromium), which on a slow link and CPU started the compile
//   about 200 ms after the module had arrived;
// - it starts at once, where Leptos's islands script waits for the browser's first idle moment;
// - it knows when the last island has hydrated, which is when `<body data-hydrated>` may be set
//   (tests and the time-to-interactive benchmark wait for it, and CSS may use it).
//
// Called with the JS glue's and the WebAssembly module's addresses.
(async (glue, wasm) => {
	// The module is compiled from here, as its bytes arrive, not from the glue's `init`: that
	// one runs only once the glue has been imported, which waits for the main thread, and on a
	// long page the main thread was parsing and laying it out until the end. A DevTools trace of
	// the history's cold load (CPU slowed 4x) had the module's bytes, received by 400 ms, handed
	// to the compiler at 820 ms. Should this compile fail (a proxy that changed the file's
	// type, say), the glue fetches the module itself, as it did before.
	const compiled = WebAssembly.compileStreaming(fetch(wasm)).catch(() => wasm);
	const mod = await import(glue);
	await mod.default({ module_or_path: await compiled });
	// Hydration needs the whole page: its elements and the data scripts at its end.
	if (document.readyState === "loading") {
		await new Promise((parsed) => document.addEventListener("DOMContentLoaded", parsed, { once: true }));
	}
	// The Rust side's `hydrate()` (`src/lib.rs`): the reactive owner the islands run under.
	mod.hydrate();
	// Each island in document order, so an island inside another island's children
	// (`<leptos-children>`) comes after the island around it, which has left its owner on that
	// element by then: the inner island hydrates under it. Only the islands are visited: walking
	// every element of the page with an `await` at each cost a table page (the history, ~520
	// elements) about 70 ms of a CPU slowed 4x before it was interactive.
	for (const el of document.body.querySelectorAll("leptos-island")) {
		const island = mod[el.dataset.component];
		if (!island) {
			console.warn(`No WebAssembly export for the island ${el.dataset.component}.`);
			continue;
		}
		const owner = el.parentElement?.closest("leptos-children")?.$$on_hydrate;
		if (owner) owner();
		// An island whose code were lazily loaded would answer with a promise (its chunk arrives
		// first); awaiting one that answers nothing costs a microtask.
		await island(el);
	}
	// The effects the islands created run as microtasks; a timer fires after they have.
	setTimeout(() => document.body.setAttribute("data-hydrated", "true"), 0);
})
