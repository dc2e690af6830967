// Owns where the command line finds the library in the package it ships in: <pkg>/node/index.mjs
// (the Node build) and <pkg>/sandbox/server.mjs. Every other module of cli/ imports from here, so
// that the package's layout is known in one place. The command line runs from the assembled package
// only (dist/vox-crm, or an installed vox-crm), not from the repository's cli/ folder.
export { maskPhone, VoxClient, VoxError, validateLead, validatePhone, validatePhones } from "../node/index.mjs";
