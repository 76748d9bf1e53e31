// Host-check stub of TWeakObjectPtr (CoreUObject): a pointer that reads as null once its object is gone.
// The stub's UObjects register themselves while they live (UObject/Object.h), standing in for the
// engine's object array and garbage collector.
#pragma once

#include "CoreMinimal.h"
#include "UObject/Object.h"

template <typename ObjectType>
class TWeakObjectPtr
{
public:
	TWeakObjectPtr() = default;
	TWeakObjectPtr(ObjectType* InObject) : Object(InObject), Serial(PmmStub::SerialOf(InObject)) {}

	/** The object, or null if it was destroyed (or never set). */
	ObjectType* Get() const { return Object != nullptr && PmmStub::SerialOf(Object) == Serial ? Object : nullptr; }
	bool IsValid() const { return Get() != nullptr; }
	void Reset()
	{
		Object = nullptr;
		Serial = 0;
	}

private:
	ObjectType* Object = nullptr;
	uint64 Serial = 0;
};
