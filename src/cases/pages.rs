//! Case pages.
