// GOV.UK Frontend components (error summary focus, service navigation toggle, ...).
import { initAll } from "/govuk-frontend/govuk-frontend.min.js";
initAll();
