// Host-check stub of LiveLinkInterface's LiveLinkTypes.h: the types a Basic-role source pushes.
#pragma once

#include "CoreMinimal.h"
#include "HAL/PlatformTime.h"
#include "Misc/QualifiedFrameTime.h"
#include "UObject/Object.h"

struct FLiveLinkSubjectName
{
	FLiveLinkSubjectName() = default;
	FLiveLinkSubjectName(FName InName) : Name(InName) {}
	operator FName&() { return Name; }
	operator const FName&() const { return Name; }
	FName Name;
};

struct FLiveLinkSubjectKey
{
	FLiveLinkSubjectKey() = default;
	FLiveLinkSubjectKey(FGuid InSource, FName InSubjectName) : Source(InSource), SubjectName(InSubjectName) {}
	FGuid Source;
	FLiveLinkSubjectName SubjectName;
};

struct FLiveLinkWorldTime
{
	/** Now. */
	FLiveLinkWorldTime() : Time(FPlatformTime::Seconds()), Offset(0.0) {}
	/** A sender's time: the offset to this machine's clock is kept with it. */
	FLiveLinkWorldTime(const double InTime) : Time(InTime), Offset(FPlatformTime::Seconds() - InTime) {}
	FLiveLinkWorldTime(const double InTime, const double InOffset) : Time(InTime), Offset(InOffset) {}
	double GetOffsettedTime() const { return Time + Offset; }
	double GetSourceTime() const { return Time; }
	double Time;
	double Offset;
};

struct FLiveLinkMetaData
{
	TMap<FName, FString> StringMetaData;
	FQualifiedFrameTime SceneTime;
};

struct FLiveLinkBaseStaticData
{
	static UScriptStruct* StaticStruct()
	{
		static UScriptStruct Struct;
		return &Struct;
	}
	TArray<FName> PropertyNames;
};

struct FLiveLinkBaseFrameData
{
	static UScriptStruct* StaticStruct()
	{
		static UScriptStruct Struct;
		return &Struct;
	}
	FLiveLinkWorldTime WorldTime;
	FLiveLinkMetaData MetaData;
	TArray<float> PropertyValues;
};

/** A static or frame data struct of a role's type (this stub: the base types only), move-only. */
template <typename BaseType>
class TLiveLinkBaseDataStruct
{
public:
	TLiveLinkBaseDataStruct() = default;
	explicit TLiveLinkBaseDataStruct(UScriptStruct* InScriptStruct) : ScriptStruct(InScriptStruct)
	{
		check(InScriptStruct == BaseType::StaticStruct());
		Data.reset(new BaseType());
	}
	TLiveLinkBaseDataStruct(TLiveLinkBaseDataStruct&&) = default;
	TLiveLinkBaseDataStruct& operator=(TLiveLinkBaseDataStruct&&) = default;
	TLiveLinkBaseDataStruct(const TLiveLinkBaseDataStruct&) = delete;
	TLiveLinkBaseDataStruct& operator=(const TLiveLinkBaseDataStruct&) = delete;

	bool IsValid() const { return Data != nullptr; }
	const UScriptStruct* GetStruct() const { return ScriptStruct; }
	BaseType* GetBaseData() { return Data.get(); }
	const BaseType* GetBaseData() const { return Data.get(); }

	template <typename T>
	T* Cast()
	{
		static_assert(std::is_same<T, BaseType>::value, "this stub holds the base types only");
		return Data.get();
	}

private:
	UScriptStruct* ScriptStruct = nullptr;
	std::unique_ptr<BaseType> Data;
};

using FLiveLinkStaticDataStruct = TLiveLinkBaseDataStruct<FLiveLinkBaseStaticData>;
using FLiveLinkFrameDataStruct = TLiveLinkBaseDataStruct<FLiveLinkBaseFrameData>;
