//! Pages of assisted service: ask for help, follow it, and the officers' list.
