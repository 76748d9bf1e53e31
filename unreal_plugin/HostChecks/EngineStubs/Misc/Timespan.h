#pragma once

#include "CoreMinimal.h"

struct FTimespan
{
	FTimespan() = default;
	static FTimespan FromSeconds(double Seconds) { return FTimespan(Seconds); }
	static FTimespan FromMilliseconds(double Milliseconds) { return FTimespan(Milliseconds / 1000.0); }
	double GetTotalSeconds() const { return TotalSeconds; }
	double GetTotalMilliseconds() const { return TotalSeconds * 1000.0; }

private:
	explicit FTimespan(double InSeconds) : TotalSeconds(InSeconds) {}
	double TotalSeconds = 0.0;
};
