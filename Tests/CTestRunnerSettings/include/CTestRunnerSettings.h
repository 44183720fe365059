// Settings for the test process, applied before Swift Testing reads its configuration: see
// runner_settings.c. Nothing to call; the header exists because a C target needs one.
#pragma once
