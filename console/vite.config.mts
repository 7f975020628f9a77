// The web console (issue 16), built into target/console-dist by scripts/console-build; scripts/assets
// copies that into the worker's assets at events/console/, served at /events/console/.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/events/console/",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../target/console-dist", import.meta.url)),
    emptyOutDir: true,
    // Everything is served by the worker; no inline data URIs for scripts (CSP script-src 'self').
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
