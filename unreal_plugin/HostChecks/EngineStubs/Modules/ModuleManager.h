#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

/** The engine registers the module under its name; here a function per module makes one (host tests). */
#define IMPLEMENT_MODULE(ModuleImplClass, ModuleName) \
	IModuleInterface* PmmStubCreateModule_##ModuleName() { return new ModuleImplClass(); }
