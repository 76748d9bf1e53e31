#pragma once

#include "CoreMinimal.h"

struct FIPv4Address
{
	FIPv4Address() = default;
	explicit FIPv4Address(uint32 InValue) : Value(InValue) {}
	/** Dotted quad only, as the engine's Parse; false for anything else. */
	static bool Parse(const FString& AddressString, FIPv4Address& OutAddress);
	uint32 Value = 0;  // host order
	static const FIPv4Address Any;
	static const FIPv4Address InternalLoopback;
};
