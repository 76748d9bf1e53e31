// Host-check stub of HAL/Runnable.h (Core): the interface a thread runs, with the virtuals as in the
// engine's header. The thread calls Init, then Run if Init returned true, then Exit, all on itself;
// Stop is called from another thread to ask Run to return.
#pragma once

#include "CoreMinimal.h"

class FSingleThreadRunnable;

class FRunnable
{
public:
	virtual bool Init() { return true; }
	virtual uint32 Run() = 0;
	virtual void Stop() {}
	virtual void Exit() {}
	virtual FSingleThreadRunnable* GetSingleThreadInterface() { return nullptr; }
	virtual ~FRunnable() {}
};
