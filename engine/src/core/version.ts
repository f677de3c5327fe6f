// The package version, which build.mjs injects from the Python package's __version__ so that
// the engine and the adapter cannot disagree; "dev" when the engine runs from its sources.
declare const __DCT_VERSION__: string | undefined;

export const ENGINE_VERSION: string = typeof __DCT_VERSION__ === "string" ? __DCT_VERSION__ : "dev";
