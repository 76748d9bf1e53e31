// Host-check stub of UObject: identity (StaticClass), construction through a registered class, Cast.
#pragma once

#include "CoreMinimal.h"
#include "UObject/ObjectMacros.h"

namespace PmmStub
{
/** A live object's serial number (unique for the process), 0 for null or a destroyed object. */
uint64 SerialOf(const UObject* Object);
void RegisterObject(const UObject* Object);
void UnregisterObject(const UObject* Object);
}  // namespace PmmStub

class UObject
{
public:
	UObject() { PmmStub::RegisterObject(this); }
	virtual ~UObject() { PmmStub::UnregisterObject(this); }
	UObject(const UObject&) = delete;
	UObject& operator=(const UObject&) = delete;
};

/** A class reference limited to T and its subclasses, as a UClass pointer. */
template <typename BaseType>
class TSubclassOf
{
public:
	TSubclassOf() = default;
	TSubclassOf(UClass* InClass) : Class(InClass) {}
	UClass* Get() const { return Class; }
	operator UClass*() const { return Class; }
	UClass* operator*() const { return Class; }

private:
	UClass* Class = nullptr;
};

template <typename T>
T* Cast(UObject* Object)
{
	return dynamic_cast<T*>(Object);
}

template <typename T>
const T* Cast(const UObject* Object)
{
	return dynamic_cast<const T*>(Object);
}

/** The class default object: one instance per class, what GetDefault returns in the engine. */
template <typename T>
const T* GetDefault()
{
	static T Default;
	return &Default;
}

template <typename T>
T* GetMutableDefault()
{
	return const_cast<T*>(GetDefault<T>());
}

template <typename T>
T* NewObject(UObject* /*Outer*/, UClass* Class)
{
	check(Class != nullptr && Class->Construct != nullptr);
	T* Object = dynamic_cast<T*>(Class->Construct());
	check(Object != nullptr);
	return Object;
}

namespace PmmStub
{
/** Lets NewObject build T from T::StaticClass() (the engine does this through reflection). */
template <typename T>
void RegisterClass()
{
	T::StaticClass()->Construct = []() -> UObject* { return new T(); };
}
}  // namespace PmmStub

/** What the details panel reports after an edit (UObject/UnrealType.h in the engine). */
struct FPropertyChangedEvent
{
	FName PropertyName;
	FName MemberPropertyName;
	FName GetPropertyName() const { return PropertyName; }
	FName GetMemberPropertyName() const { return MemberPropertyName; }
};
