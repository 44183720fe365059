function transformEvent(e) { return e; }
