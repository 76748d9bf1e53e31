#pragma once

#include "CoreMinimal.h"
#include "Misc/Timespan.h"

struct FDateTime
{
	FDateTime() = default;
	static FDateTime UtcNow();
	/** The local time (what a wall clock in this time zone shows), on the same scale as UtcNow. */
	static FDateTime Now();
	static FDateTime FromUnixTimestamp(int64 UnixTime)
	{
		FDateTime Time;
		Time.UnixSeconds = double(UnixTime);
		return Time;
	}
	friend FTimespan operator-(const FDateTime& Left, const FDateTime& Right)
	{
		return FTimespan::FromSeconds(Left.UnixSeconds - Right.UnixSeconds);
	}

private:
	double UnixSeconds = 0.0;
};
