import "@digdir/designsystemet-css";
import "@digdir/designsystemet-theme/altinn.css";
import "./console.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { takeTokenFromFragment } from "./session";

takeTokenFromFragment();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>
  );
}
