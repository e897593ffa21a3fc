// Brings a page of islands to life (`crate::app::Hydration::Islands`, issue #13). Written by
// the shell (`crate::ui::islands::IslandScripts`) in place of Leptos's islands script, for two
// reasons: it starts at once instead of on the browser's first idle moment, and it knows when
// the last island has hydrated, lazily loaded ones (`#[island(lazy)]`) included, which is when
// `<body data-hydrated>` may be set (`src/ui/hydrated.rs`).
//
// Called with the JS glue's and the WebAssembly module's addresses.
(async (glue, wasm) => {
	const mod = await import(glue);
	await mod.default({ module_or_path: wasm });
	// The Rust side's `hydrate()` (`src/lib.rs`): the reactive owner the islands run under.
	mod.hydrate();
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
					// A lazy island answers with a promise: its chunk arrives first.
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
