export const transformEvent = 42;
