// Brings a page to life (issue #13). Written by the shell (`crate::ui::islands::BundleScripts`)
// in place of Leptos's hydration scripts, for three reasons:
// - it runs as a classic script in the head, as soon as the parser reaches it, so it imports the
//   JS glue and compiles the WebAssembly module while the module downloads and the page is still
//   being parsed; module scripts wait for the end of parsing (Leptos's are deferred, and an
//   `async` one ran no sooner in Chromium), which on a slow link and CPU started the compile
//   about 200 ms after the module had arrived;
// - it starts at once, where Leptos's islands script waits for the browser's first idle moment;
// - on a page of islands (`crate::app::Hydration::Islands`) it knows when the last island has
//   hydrated, those whose code is lazily loaded included, which is when
//   `<body data-hydrated>` may be set (`src/ui/hydrated.rs`); where the whole app hydrates, the
//   app sets it.
//
// Called with the JS glue's and the WebAssembly module's addresses.
(async (glue, wasm) => {
	const mod = await import(glue);
	await mod.default({ module_or_path: wasm });
	// Hydration needs the whole page: its elements and the data scripts at its end.
	if (document.readyState === "loading") {
		await new Promise((parsed) => document.addEventListener("DOMContentLoaded", parsed, { once: true }));
	}
	// The Rust side's `hydrate()` (`src/lib.rs`): the reactive owner the islands run under, or
	// the whole app's hydration.
	mod.hydrate();
	if (document.documentElement.dataset.hydration !== "islands") return;
	// An island's children (`<leptos-children>`) hydrate under the owner of the island around
	// them, which the island leaves on the element for this walk.
	const childrenOwners = [];
	const walk = async (node) => {
		for (const el of Array.from(node.children)) {
			const tag = el.tagName.toLowerCase();
			if (tag === "leptos-island") {
				const island = mod[el.dataset.component];
				if (island) {
					const owner = childrenOwners[childrenOwners.length - 1];
					if (owner) owner();
					// An editing island answers with a promise: its chunk arrives first.
					await island(el);
				} else {
					console.warn(`No WebAssembly export for the island ${el.dataset.component}.`);
				}
				await walk(el);
			} else if (tag === "leptos-children") {
				childrenOwners.push(el.$$on_hydrate);
				await walk(el);
				childrenOwners.pop();
			} else {
				await walk(el);
			}
		}
	};
	await walk(document.body);
	// The effects the islands created run as microtasks; a timer fires after they have.
	setTimeout(() => document.body.setAttribute("data-hydrated", "true"), 0);
})
