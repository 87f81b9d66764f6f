//! Pages: the service map and list, a hall with its slots, and my appointments.
